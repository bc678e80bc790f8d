import { type Command, printJson } from './command.js'
import { withDeps } from './compose.js'

const USAGE = 'keygate reset-link EMAIL [--json]'

export const resetLinkCommand: Command = {
  summary: 'Print a one-time password-reset link for an account',
  usage: `${USAGE}\n\n  --json   print {"link": "..."}`,
  async run(ctx) {
    const json = ctx.args.includes('--json')
    const [email, ...rest] = ctx.args.filter((a) => a !== '--json')
    if (email === undefined || rest.length > 0) {
      ctx.stderr.write(`Usage: ${USAGE}\n`)
      return 2
    }
    return withDeps(ctx.config(), async (deps) => {
      const link = await deps.services.passwordReset.issueLink(email)
      if (link === undefined) {
        ctx.stderr.write('keygate reset-link: no account has this email\n')
        return 1
      }
      // The link is a credential: it goes to stdout only, never to a log.
      if (json) printJson(ctx.stdout, { link })
      else ctx.stdout.write(`${link}\n`)
      return 0
    })
  },
}
