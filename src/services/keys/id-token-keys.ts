import { join } from 'node:path'
import { type Config, ConfigError } from '../../config.js'
import { exists } from './key-files.js'
import { ensureKeySet, type KeySetFile, rotateKeySet, rotateKeys } from './key-rotation.js'
import { createFileKeys, type SigningKeys } from './signing-keys.js'

// OIDC Core §15.1: RS256 must always be available to relying parties, and an
// ID token must be verifiable by them, so it is never signed with the HS256
// secret. With an asymmetric JWT_ALGORITHM the access-token key signs ID tokens
// too (one key set to publish and rotate); with HS256, a separate RS256 set.

/** ID_TOKEN_KEY_FILE, else DATA_DIR/id-token-keys.json. */
export const idTokenKeySet = (config: Config): KeySetFile => ({
  path: config.idTokenKeyFile ?? join(config.dataDir, 'id-token-keys.json'),
  alg: 'RS256',
})

/**
 * The keys ID tokens are signed with: the access-token keys when they are
 * asymmetric, else the RS256 set, generated on first start when
 * ID_TOKEN_KEY_FILE is unset (every instance must then share DATA_DIR).
 */
export async function loadIdTokenKeys(config: Config, access: SigningKeys): Promise<SigningKeys> {
  if (access.alg !== 'HS256') return access
  const file = idTokenKeySet(config)
  if (!(await exists(file.path))) {
    if (config.idTokenKeyFile !== undefined) {
      throw new ConfigError(`ID_TOKEN_KEY_FILE: ${file.path} does not exist`)
    }
    await ensureKeySet(file)
  }
  return createFileKeys(file.path, file.alg)
}

/** `keygate keys rotate --id-token`: the RS256 set, or the access-token keys that sign ID tokens. */
export function rotateIdTokenKeys(config: Config, options: { now?: Date } = {}) {
  if (config.jwtAlgorithm !== 'HS256') return rotateKeys(config, options)
  // ID tokens live as long as access tokens (services/oidc/id-tokens.ts).
  return rotateKeySet(idTokenKeySet(config), config.accessTokenExpireMinutes * 60, options)
}
