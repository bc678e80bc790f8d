import { type Config, ConfigError, type JwtAlgorithm } from '../../config.js'
import {
  exists,
  keyFilePath,
  newStoredKey,
  readKeyFile,
  writeKeyFile,
  writeKeyFileOnce,
} from './key-files.js'

// The key file lists keys newest first: one pending key, the signing key, then
// retired keys. The pending key is published in the JWKS a whole rotation ahead
// of its use, so a verifier that cached the key set before a rotation already
// knows the key that signs after it (no refetch, no cooldown miss).

/** One key file and the algorithm of its keys: the access-token keys or the ID-token keys. */
export interface KeySetFile {
  path: string
  alg: Exclude<JwtAlgorithm, 'HS256'>
}

function requireAsymmetric(config: Config): Exclude<JwtAlgorithm, 'HS256'> {
  if (config.jwtAlgorithm === 'HS256') {
    throw new ConfigError(
      'JWT_ALGORITHM: key pairs need EdDSA, ES256 or RS256 (HS256 uses SECRET_KEY)',
    )
  }
  return config.jwtAlgorithm
}

/** The access-token key file of JWT_ALGORITHM (ConfigError for HS256, which has none). */
export const accessKeySet = (config: Config): KeySetFile => ({
  path: keyFilePath(config),
  alg: requireAsymmetric(config),
})

const seconds = (d: Date) => Math.floor(d.getTime() / 1000)

async function freshSet(alg: KeySetFile['alg'], now: Date) {
  const current = { ...(await newStoredKey(alg)), iat: seconds(now) }
  const pending = { ...(await newStoredKey(alg)), pending: true }
  return { current, pending }
}

/** Writes a new key set (signing + pending key); refuses to replace one unless `force`. */
export async function generateKeySet(
  file: KeySetFile,
  options: { force?: boolean; now?: Date } = {},
): Promise<{ path: string; kid: string; next: string }> {
  const { path, alg } = file
  if (!options.force && (await exists(path))) {
    throw new Error(`${path} already exists (use --force to replace it, or keys rotate)`)
  }
  const { current, pending } = await freshSet(alg, options.now ?? new Date())
  await writeKeyFile(path, [pending, current])
  return { path, kid: current.kid, next: pending.kid }
}

/**
 * Creates the key set unless the file exists; of instances starting together
 * exactly one writes it (an exclusive link), the others read the winner's.
 */
export async function ensureKeySet(file: KeySetFile): Promise<void> {
  if (await exists(file.path)) return
  const { current, pending } = await freshSet(file.alg, new Date())
  await writeKeyFileOnce(file.path, [pending, current])
}

/** Writes a new key set for JWT_ALGORITHM; refuses to replace one unless `force`. */
export async function generateKeys(config: Config, options: { force?: boolean; now?: Date } = {}) {
  return generateKeySet(accessKeySet(config), options)
}

/**
 * The pending key starts signing and a new pending key is made. Retired keys
 * stay while tokens they signed can be unexpired: one retired longer ago than
 * `lifetimeSeconds` (plus a minute of clock skew) is dropped.
 */
export async function rotateKeySet(
  file: KeySetFile,
  lifetimeSeconds: number,
  options: { now?: Date } = {},
): Promise<{ path: string; kid: string; next: string; retained: string[] }> {
  const { path, alg } = file
  const now = seconds(options.now ?? new Date())
  const old = await readKeyFile(path, alg)
  const pending = old.find((k) => k.pending && k.alg === alg)
  // A file without a pending key of this algorithm (a PEM, a switched algorithm) gets a fresh one.
  const { pending: _, ...promoted } = pending ?? (await newStoredKey(alg))
  const signers = [{ ...promoted, iat: now }, ...old.filter((k) => !k.pending)]
  const horizon = now - lifetimeSeconds - 60
  // Key i was retired when key i-1 (the next newer one) started signing.
  const kept = signers.filter((_k, i) => {
    const retiredAt = signers[i - 1]?.iat
    return i === 0 || retiredAt === undefined || retiredAt > horizon
  })
  const next = { ...(await newStoredKey(alg)), pending: true }
  await writeKeyFile(path, [next, ...kept])
  return { path, kid: promoted.kid, next: next.kid, retained: kept.slice(1).map((k) => k.kid) }
}

/** Rotates the access-token keys of JWT_ALGORITHM (see rotateKeySet). */
export async function rotateKeys(config: Config, options: { now?: Date } = {}) {
  return rotateKeySet(accessKeySet(config), config.accessTokenExpireMinutes * 60, options)
}
