import { jwtVerify } from 'jose'

/**
 * The reference verdict the HS256 fast path is held to: jose's jwtVerify with
 * the options access-tokens.ts gives it, plus Keygate's two stricter rules,
 * written out here independently of src/services/crypto/jws-rules.ts:
 * canonical unpadded base64url segments (RFC 7515 §2), and a lifetime no
 * longer than the configured one (iat required, not in the future beyond the
 * skew, exp − iat ≤ lifetime + skew).
 */
export interface ReferenceOptions {
  key: Uint8Array
  issuer: string
  audience: string
  requiredClaims: string[]
  now: number
  maxLifetimeSeconds: number
  skewSeconds: number
}

function canonical(segment: string): boolean {
  if (!/^[A-Za-z0-9_-]*$/.test(segment)) return false
  // Re-encoding the decoded bytes must give the very same text.
  const bytes = Buffer.from(segment.replaceAll('-', '+').replaceAll('_', '/'), 'base64')
  return (
    bytes.toString('base64').replace(/=+$/, '').replaceAll('+', '-').replaceAll('/', '_') ===
    segment
  )
}

export async function referenceVerify(
  token: string,
  o: ReferenceOptions,
): Promise<'invalid' | Record<string, unknown>> {
  const parts = token.split('.')
  if (parts.length !== 3 || !parts.every(canonical)) return 'invalid'
  let payload: Record<string, unknown>
  try {
    ;({ payload } = await jwtVerify(
      token,
      (header) => {
        if (['jwk', 'jku', 'x5u', 'x5c'].some((h) => h in header)) throw new Error('embedded key')
        return o.key
      },
      {
        algorithms: ['HS256'],
        typ: 'at+jwt',
        issuer: o.issuer,
        audience: o.audience,
        requiredClaims: o.requiredClaims,
        currentDate: new Date(o.now * 1000),
      },
    ))
  } catch {
    return 'invalid'
  }
  const { iat, exp } = payload
  if (typeof iat !== 'number' || typeof exp !== 'number') return 'invalid'
  if (iat > o.now + o.skewSeconds) return 'invalid'
  if (exp - iat > o.maxLifetimeSeconds + o.skewSeconds) return 'invalid'
  return payload
}
