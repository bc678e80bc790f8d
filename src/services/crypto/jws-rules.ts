/**
 * Two rules Keygate adds to what jose's jwtVerify checks, applied by both
 * verification paths (hs256.ts and access-tokens.ts) alike.
 */

const B64URL = /^[A-Za-z0-9_-]*$/

/**
 * RFC 7515 §2 (and §7.1): each segment is base64url *without* padding. Decoders
 * (jose's included) also take `=` padding and ignore the unused low bits of the
 * last character, so one token would have many spellings; only the canonical one
 * is accepted, which keeps a token string and its bytes one-to-one.
 */
export function isCanonicalCompact(token: string): boolean {
  const parts = token.split('.')
  return parts.length === 3 && parts.every(isCanonicalBase64url)
}

function isCanonicalBase64url(segment: string): boolean {
  return (
    B64URL.test(segment) &&
    segment.length % 4 !== 1 &&
    Buffer.from(segment, 'base64url').toString('base64url') === segment
  )
}

/** How far another instance's clock may run ahead of ours (SPEC §11 allows verifiers 30 s). */
const CLOCK_SKEW_SECONDS = 30

/**
 * A token lives no longer than Keygate issues tokens for: `iat` is required and
 * not in the future (beyond the skew), and `exp − iat` at most the configured
 * access lifetime plus the skew. `exp` alone would let anyone holding a key mint
 * a token valid for ten years (RFC 7519 §4.1.4 leaves the bound to the verifier).
 */
export function withinLifetime(
  claims: { iat?: unknown; exp?: unknown },
  now: number,
  maxLifetimeSeconds: number,
): boolean {
  const { iat, exp } = claims
  if (typeof iat !== 'number' || typeof exp !== 'number') return false
  return iat <= now + CLOCK_SKEW_SECONDS && exp - iat <= maxLifetimeSeconds + CLOCK_SKEW_SECONDS
}
