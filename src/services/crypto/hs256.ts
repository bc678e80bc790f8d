import { createHmac, timingSafeEqual } from 'node:crypto'
import type { JWTPayload } from 'jose'
import { isCanonicalCompact, withinLifetime } from './jws-rules.js'

export interface FastVerifyOptions {
  /** the HMAC secret for a header's `kid`; undefined defers to jose */
  keyFor(kid: string | undefined): Uint8Array | undefined
  issuer: string
  audience: string
  /** claims that must be present besides iss and aud */
  requiredClaims: readonly string[]
  /** seconds since the epoch */
  now: number
  /** the longest `exp − iat` accepted (the configured access lifetime); see jws-rules.ts */
  maxLifetimeSeconds: number
}

/** What the fast path concluded: the claims, a rejection, or "not mine, ask jose". */
export type FastVerdict = { payload: JWTPayload } | 'invalid' | 'defer'

const COMPACT = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{43})$/
const HEADER_KEYS = new Set(['alg', 'typ', 'kid'])
const utf8 = new TextDecoder('utf-8', { fatal: true })

function decodeJson(segment: string): Record<string, unknown> | undefined {
  // A base64url length of 4n+1 cannot be decoded; jose rejects it, so we leave it to jose.
  if (segment.length % 4 === 1) return undefined
  try {
    const value: unknown = JSON.parse(utf8.decode(Buffer.from(segment, 'base64url')))
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}

/**
 * A synchronous node:crypto check of the one token shape Keygate issues with
 * HS256, cheaper than jose's WebCrypto path, which imports the key on every
 * call (docs/decisions/hs256-node-crypto.md). It accepts only what jose's jwtVerify would accept with
 * the same options (RFC 7515 §5.2, RFC 7519 §7.2, RFC 9068 §4): the header
 * must be exactly {alg: HS256, typ: at+jwt, kid?}, so `none`, other
 * algorithms, `crit` and embedded keys (jwk/jku/x5u/x5c) never pass here.
 * Anything unusual is deferred to jose rather than judged twice. On top of
 * jose, it applies jws-rules.ts (canonical base64url, bounded lifetime), as the
 * jose path does; test/unit/hs256-differential.test.ts holds the two equal.
 */
export function verifyHs256Fast(token: string, opts: FastVerifyOptions): FastVerdict {
  const parts = COMPACT.exec(token)
  if (!parts) return 'defer'
  if (!isCanonicalCompact(token)) return 'invalid'
  const [, headerB64, payloadB64, signatureB64] = parts as unknown as [
    string,
    string,
    string,
    string,
  ]
  const header = decodeJson(headerB64)
  if (header?.alg !== 'HS256' || header.typ !== 'at+jwt') return 'defer'
  for (const name of Object.keys(header)) if (!HEADER_KEYS.has(name)) return 'defer'
  if (header.kid !== undefined && typeof header.kid !== 'string') return 'defer'
  const key = opts.keyFor(header.kid)
  if (!key) return 'defer'

  // Constant-time comparison of the MAC (RFC 7515 §10.7 warns about timing).
  const expected = createHmac('sha256', key).update(`${headerB64}.${payloadB64}`).digest()
  const given = Buffer.from(signatureB64, 'base64url')
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'invalid'

  const claims = decodeJson(payloadB64)
  if (!claims) return 'defer'
  for (const name of [...opts.requiredClaims, 'iss', 'aud']) {
    if (!Object.hasOwn(claims, name)) return 'invalid'
  }
  const { iss, aud, iat, nbf, exp } = claims
  if (iss !== opts.issuer) return 'invalid'
  if (Array.isArray(aud) ? !aud.includes(opts.audience) : aud !== opts.audience) return 'invalid'
  // As jose: a date claim, when present, must be a number; nbf not in the future, exp in it.
  if (iat !== undefined && typeof iat !== 'number') return 'invalid'
  if (nbf !== undefined && (typeof nbf !== 'number' || nbf > opts.now)) return 'invalid'
  if (exp !== undefined && (typeof exp !== 'number' || exp <= opts.now)) return 'invalid'
  if (!withinLifetime(claims, opts.now, opts.maxLifetimeSeconds)) return 'invalid'
  return { payload: claims as JWTPayload }
}

/**
 * Signs a JWS compact HS256 token with node:crypto: the same bytes jose's
 * SignJWT produces for the same header and claims (JSON in insertion order,
 * base64url, HMAC-SHA256), without its WebCrypto job
 * (docs/decisions/hs256-node-crypto.md). Only for HS256 keys.
 */
export function signHs256(header: Record<string, unknown>, claims: JWTPayload, key: Uint8Array) {
  const input = `${base64url(header)}.${base64url(claims)}`
  return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`
}

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
