import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { type CryptoKey, importJWK, type JWK } from 'jose'
import { type Config, ConfigError, type JwtAlgorithm } from '../../config.js'
import {
  exists,
  fileStamp,
  keyFilePath,
  publicJwk,
  readKeyFile,
  type StoredJwk,
} from './key-files.js'
import { generateKeys } from './key-rotation.js'

export { generateKeys, rotateKeys } from './key-rotation.js'

type Key = CryptoKey | Uint8Array

/** The keys tokens are signed and verified with. */
export interface SigningKeys {
  alg: JwtAlgorithm
  /** signs new tokens; `kid` is set for asymmetric keys */
  readonly current: { kid?: string; key: Key }
  /** key for a token's `kid` (old keys keep verifying after a rotation) */
  verificationKey(kid: string | undefined): Key | undefined
  /** public keys for /.well-known/jwks.json (empty for HS256) */
  jwks(): { keys: JWK[] }
  /** picks up a key file changed by another process (`keygate keys rotate`); no-op for HS256 */
  sync(): Promise<void>
  /** sync(), at most once per recheck interval: called on every verification */
  syncIfStale(): Promise<void>
  /** re-reads the key file now, changed or not (SIGHUP) */
  reload(): Promise<void>
}

export function createHmacKeys(secret: string): SigningKeys {
  const key = new TextEncoder().encode(secret)
  return {
    alg: 'HS256',
    current: { key },
    verificationKey: () => key,
    jwks: () => ({ keys: [] }),
    sync: async () => {},
    syncIfStale: async () => {},
    reload: async () => {},
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
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 })
    secret = randomBytes(32).toString('base64url')
    writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' })
  }
  return { ...config, secretKey: secret }
}

interface LoadedSet {
  current: { kid: string; key: Key }
  byKid: Map<string, Key>
  jwks: JWK[]
}

async function importSet(stored: StoredJwk[], alg: JwtAlgorithm, path: string): Promise<LoadedSet> {
  // The signer is the newest active key; a pending one is only published (see key-rotation.ts).
  const signer = stored.find((k) => !k.pending)
  if (signer?.alg !== alg) {
    throw new ConfigError(
      `JWT_ALGORITHM: the signing key in ${path} is ${signer?.alg ?? 'missing'}, not ${alg} (run keygate keys rotate)`,
    )
  }
  const byKid = new Map<string, Key>()
  const jwks = stored.map(publicJwk)
  // Only keys of the configured algorithm verify: verification pins `alg` anyway.
  for (const k of stored) {
    if (k.alg === alg) byKid.set(k.kid, (await importJWK(publicJwk(k), alg)) as Key)
  }
  const signing = (await importJWK(signer, alg)) as Key
  return { current: { kid: signer.kid, key: signing }, byKid, jwks }
}

/** How often verification looks at the key file (wall time: file freshness, not policy time). */
export const KEY_RECHECK_MS = 1000

/**
 * Asymmetric keys from a key file. `sync()` re-reads it when it changed, so a
 * `keygate keys rotate` reaches a running server: the token service syncs
 * before signing and when a token names an unknown `kid`. Verification calls
 * `syncIfStale()`, so a key *removed* from the file (compromised, retired)
 * stops verifying within `recheckMs`, without a restart; `reload()` (SIGHUP)
 * re-reads at once.
 */
export async function createFileKeys(
  path: string,
  alg: JwtAlgorithm,
  options: { recheckMs?: number; now?: () => number } = {},
): Promise<SigningKeys> {
  const { recheckMs = KEY_RECHECK_MS, now = () => performance.now() } = options
  let stamp = await fileStamp(path)
  let set = await importSet(await readKeyFile(path, alg), alg, path)
  let checkedAt = now()
  let pending: Promise<void> | undefined

  const check = (force: boolean) => {
    pending ??= (async () => {
      try {
        checkedAt = now()
        const current = await fileStamp(path)
        if (current === stamp && !force) return
        set = await importSet(await readKeyFile(path, alg), alg, path)
        stamp = current
      } catch {
        // A missing or unreadable file keeps the keys already loaded.
      } finally {
        pending = undefined
      }
    })()
    return pending
  }

  return {
    alg,
    get current() {
      return set.current
    },
    verificationKey: (kid) => (kid === undefined ? undefined : set.byKid.get(kid)),
    jwks: () => ({ keys: set.jwks }),
    sync: () => check(false),
    syncIfStale: () => (now() - checkedAt >= recheckMs ? check(false) : Promise.resolve()),
    reload: async () => {
      await pending
      await check(true)
    },
  }
}

/** Builds the signing keys the configuration names. */
export async function loadSigningKeys(config: Config): Promise<SigningKeys> {
  if (config.jwtAlgorithm === 'HS256') {
    if (!config.secretKey) throw new Error('SECRET_KEY: missing (call withDevSecret first)')
    return createHmacKeys(config.secretKey)
  }
  const path = keyFilePath(config)
  if (!(await exists(path))) {
    if (config.jwtPrivateKeyFile !== undefined) {
      throw new ConfigError(`JWT_PRIVATE_KEY_FILE: ${path} does not exist`)
    }
    // A production key must be made deliberately and kept safe, not appear on start.
    if (config.production) {
      throw new ConfigError(
        `JWT_PRIVATE_KEY_FILE: no key file for JWT_ALGORITHM=${config.jwtAlgorithm}, and none is generated with NODE_ENV=production (run keygate keys generate)`,
      )
    }
    await generateKeys(config)
  }
  return createFileKeys(path, config.jwtAlgorithm)
}
