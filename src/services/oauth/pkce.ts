import { createHash, timingSafeEqual } from 'node:crypto'

// RFC 7636 §4.1: 43–128 characters of the unreserved set.
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/

/**
 * RFC 7636 §4.6, S256 only: BASE64URL(SHA256(verifier)) against the stored
 * challenge, compared in constant time. A missing or malformed verifier fails.
 */
export function pkceMatches(verifier: string | undefined, challenge: string): boolean {
  if (verifier === undefined || !VERIFIER.test(verifier)) return false
  const computed = Buffer.from(createHash('sha256').update(verifier).digest('base64url'))
  const expected = Buffer.from(challenge)
  return computed.length === expected.length && timingSafeEqual(computed, expected)
}
