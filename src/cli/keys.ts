import { generateKeys, rotateKeys } from '../services/keys/signing-keys.js'
import { type Command, printJson } from './command.js'

const USAGE = 'keygate keys generate [--force] [--json] | keygate keys rotate [--json]'

export const keysCommand: Command = {
  summary: 'Create or rotate the key pair for JWT_ALGORITHM=EdDSA|ES256|RS256',
  usage: `${USAGE}\n\n  generate   write a new key set to JWT_PRIVATE_KEY_FILE (default DATA_DIR/signing-keys.json)\n  rotate     add a new signing key; older keys keep verifying until their tokens expire\n  --json     print the result as one JSON object`,
  async run(ctx) {
    const [action, ...rest] = ctx.args
    const json = rest.includes('--json')
    const config = ctx.config()
    if (action === 'generate') {
      const { path, kid } = await generateKeys(config, { force: rest.includes('--force') })
      if (json) printJson(ctx.stdout, { alg: config.jwtAlgorithm, kid, path })
      else ctx.stdout.write(`generated ${config.jwtAlgorithm} key ${kid} in ${path}\n`)
      return 0
    }
    if (action === 'rotate') {
      const { path, kid, retained } = await rotateKeys(config)
      if (json) {
        printJson(ctx.stdout, { kid, path, retained })
        return 0
      }
      ctx.stdout.write(`new signing key ${kid} in ${path}\n`)
      ctx.stdout.write(`still verifying: ${retained.length > 0 ? retained.join(', ') : '(none)'}\n`)
      return 0
    }
    ctx.stderr.write(`Usage: ${USAGE}\n`)
    return 2
  },
}
