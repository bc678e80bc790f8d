import { idTokenKeySet, rotateIdTokenKeys } from '../services/keys/id-token-keys.js'
import { generateKeySet } from '../services/keys/key-rotation.js'
import { generateKeys, rotateKeys } from '../services/keys/signing-keys.js'
import { type Command, printJson } from './command.js'

const USAGE =
  'keygate keys generate [--id-token] [--force] [--json] | keygate keys rotate [--id-token] [--json]'

export const keysCommand: Command = {
  summary:
    'Create or rotate the key pairs that sign access tokens (EdDSA|ES256|RS256) and ID tokens',
  usage: `${USAGE}\n\n  generate   write a new key set to JWT_PRIVATE_KEY_FILE (default DATA_DIR/signing-keys.json)\n  rotate     add a new signing key; older keys keep verifying until their tokens expire\n  --id-token the RS256 set that signs ID tokens under JWT_ALGORITHM=HS256 (ID_TOKEN_KEY_FILE,\n             default DATA_DIR/id-token-keys.json); with an asymmetric algorithm, the access-token keys\n  --json     print the result as one JSON object`,
  async run(ctx) {
    const [action, ...rest] = ctx.args
    const json = rest.includes('--json')
    const idToken = rest.includes('--id-token')
    const config = ctx.config()
    const separate = idToken && config.jwtAlgorithm === 'HS256'
    const alg = separate ? 'RS256' : config.jwtAlgorithm
    if (action === 'generate') {
      const force = rest.includes('--force')
      const { path, kid } = separate
        ? await generateKeySet(idTokenKeySet(config), { force })
        : await generateKeys(config, { force })
      if (json) printJson(ctx.stdout, { alg, kid, path })
      else ctx.stdout.write(`generated ${alg} key ${kid} in ${path}\n`)
      return 0
    }
    if (action === 'rotate') {
      const { path, kid, retained } = idToken
        ? await rotateIdTokenKeys(config)
        : await rotateKeys(config)
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
