import { type Config, ConfigError, type JwtAlgorithm } from '../../config.js'
import { exists, keyFilePath, newStoredKey, readKeyFile, writeKeyFile } from './key-files.js'

// The key file lists keys newest first: one pending key, the signing key, then
// retired keys. The pending key is published in the JWKS a whole rotation ahead
// of its use, so a verifier that cached the key set before a rotation already
// knows the key that signs after it (no refetch, no cooldown miss).

function requireAsymmetric(config: Config): Exclude<JwtAlgorithm, 'HS256'> {
  if (config.jwtAlgorithm === 'HS256') {
    throw new ConfigError(
      'JWT_ALGORITHM: key pairs need EdDSA, ES256 or RS256 (HS256 uses SECRET_KEY)',
    )
  }
  return config.jwtAlgorithm
}

const seconds = (d: Date) => Math.floor(d.getTime() / 1000)

/** Writes a new key set for JWT_ALGORITHM (signing + pending key); refuses to replace one unless `force`. */
export async function generateKeys(
  config: Config,
  options: { force?: boolean; now?: Date } = {},
): Promise<{ path: string; kid: string; next: string }> {
  const alg = requireAsymmetric(config)
  const path = keyFilePath(config)
  if (!options.force && (await exists(path))) {
    throw new Error(`${path} already exists (use --force to replace it, or keys rotate)`)
  }
  const current = { ...(await newStoredKey(alg)), iat: seconds(options.now ?? new Date()) }
  const pending = { ...(await newStoredKey(alg)), pending: true }
  await writeKeyFile(path, [pending, current])
  return { path, kid: current.kid, next: pending.kid }
}

/**
 * The pending key starts signing and a new pending key is made. Retired keys
 * stay while tokens they signed can be unexpired: one retired longer ago than
 * the access token lifetime (plus a minute of clock skew) is dropped.
 */
export async function rotateKeys(
  config: Config,
  options: { now?: Date } = {},
): Promise<{ path: string; kid: string; next: string; retained: string[] }> {
  const alg = requireAsymmetric(config)
  const path = keyFilePath(config)
  const now = seconds(options.now ?? new Date())
  const old = await readKeyFile(path, alg)
  const pending = old.find((k) => k.pending && k.alg === alg)
  // A file without a pending key of this algorithm (a PEM, a switched algorithm) gets a fresh one.
  const { pending: _, ...promoted } = pending ?? (await newStoredKey(alg))
  const signers = [{ ...promoted, iat: now }, ...old.filter((k) => !k.pending)]
  const horizon = now - config.accessTokenExpireMinutes * 60 - 60
  // Key i was retired when key i-1 (the next newer one) started signing.
  const kept = signers.filter((_k, i) => {
    const retiredAt = signers[i - 1]?.iat
    return i === 0 || retiredAt === undefined || retiredAt > horizon
  })
  const next = { ...(await newStoredKey(alg)), pending: true }
  await writeKeyFile(path, [next, ...kept])
  return { path, kid: promoted.kid, next: next.kid, retained: kept.slice(1).map((k) => k.kid) }
}
