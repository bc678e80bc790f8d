import { randomBytes } from 'node:crypto'
import type { Config } from '../config.js'
import { createDeps } from '../deps.js'
import { createHmacKeys } from '../services/keys/signing-keys.js'

/**
 * The app's repositories and services for a one-shot command, wired exactly as
 * for HTTP (same password policy, same hasher). These commands issue no tokens,
 * so they get a throwaway signing key instead of requiring SECRET_KEY or key files.
 */
export function openDeps(config: Config) {
  return createDeps(
    { ...config, dbPoolSize: 2 },
    { keys: createHmacKeys(randomBytes(32).toString('base64url')) },
  )
}
