import { createDeps } from '../deps.js'
import { withDevSecret } from '../services/keys/signing-keys.js'
import type { Command } from './index.js'

export const resetLinkCommand: Command = {
  summary: 'Print a one-time password-reset link for an account',
  usage: 'keygate reset-link EMAIL',
  async run(ctx) {
    const [email, ...rest] = ctx.args
    if (email === undefined || rest.length > 0) {
      ctx.stderr.write(`Usage: ${this.usage}\n`)
      return 2
    }
    const deps = await createDeps(withDevSecret(ctx.config()))
    try {
      const link = await deps.services.passwordReset.issueLink(email)
      if (link === undefined) {
        ctx.stderr.write('keygate reset-link: no account has this email\n')
        return 1
      }
      // The link is a credential: it goes to stdout only, never to a log.
      ctx.stdout.write(`${link}\n`)
      return 0
    } finally {
      await deps.close()
    }
  },
}
