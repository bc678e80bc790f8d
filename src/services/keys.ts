import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { CryptoKey, JWK } from 'jose'
import type { Config, JwtAlgorithm } from '../config.js'

type Key = CryptoKey | Uint8Array

/** The keys tokens are signed and verified with. */
export interface SigningKeys {
  alg: JwtAlgorithm
  /** signs new tokens; `kid` is set for asymmetric keys */
  current: { kid?: string; key: Key }
  /** key for a token's `kid` (old keys keep verifying after a rotation) */
  verificationKey(kid: string | undefined): Key | undefined
  /** public keys for /.well-known/jwks.json (empty for HS256) */
  jwks(): { keys: JWK[] }
}

export function createHmacKeys(secret: string): SigningKeys {
  const key = new TextEncoder().encode(secret)
  return {
    alg: 'HS256',
    current: { key },
    verificationKey: () => key,
    jwks: () => ({ keys: [] }),
  }
}

/**
 * Development convenience: without SECRET_KEY, a random key is generated once
 * and kept in DATA_DIR/secret.key so restarts do not log everyone out.
 * loadConfig already refused this in production.
 */
export function withDevSecret(config: Config): Config {
  if (config.secretKey !== undefined || config.jwtAlgorithm !== 'HS256') return config
  const file = join(config.dataDir, 'secret.key')
  let secret: string
  try {
    secret = readFileSync(file, 'utf8').trim()
  } catch {
    mkdirSync(config.dataDir, { recursive: true })
    secret = randomBytes(32).toString('base64url')
    writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' })
  }
  return { ...config, secretKey: secret }
}

/** Builds the signing keys the configuration names. */
export async function loadSigningKeys(config: Config): Promise<SigningKeys> {
  if (config.jwtAlgorithm === 'HS256') {
    if (!config.secretKey) throw new Error('SECRET_KEY: missing (call withDevSecret first)')
    return createHmacKeys(config.secretKey)
  }
  throw new Error(`JWT_ALGORITHM: ${config.jwtAlgorithm} keys are not implemented yet`)
}
