import { createRemoteJWKSet, customFetch, errors, type JWTPayload, jwtVerify } from 'jose'
import type { Fetch } from './discovery.js'
import { invalidToken, unavailable, VerifyError } from './errors.js'

// Only signature algorithms whose verification key is public. `none` and HS* are never
// accepted from a JWKS: a public key used as an HMAC secret is the classic algorithm
// confusion attack (RFC 8725 §2.1, §3.1).
const ASYMMETRIC = new Set([
  'EdDSA',
  'Ed25519',
  'ES256',
  'ES384',
  'ES512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
])

// RFC 9068 §2.2: the claims every JWT access token carries.
const REQUIRED_CLAIMS = ['iss', 'exp', 'aud', 'sub', 'client_id', 'iat', 'jti']

export interface LocalVerifierOptions {
  jwksUri: string
  issuer: string
  audience: string
  clockToleranceSeconds: number
  fetch: Fetch
  timeoutMs: number
  /** the access-token algorithms the issuer names; its other keys (ID tokens) never verify one */
  accessTokenAlgs?: readonly string[]
}

/** Verification against the issuer's published keys, fetched once and refetched on a new `kid`. */
export function createLocalVerifier(opts: LocalVerifierOptions) {
  // jose refetches on an unknown kid, at most once per 30 s cooldown, and every 10 minutes.
  // An issuer that answers anything but 200 is down, not a sign of a bad token.
  const fetchKeys: Fetch = async (url, init) => {
    const res = await opts.fetch(url, init)
    if (res.status !== 200) {
      await res.body?.cancel()
      throw unavailable(new Error(`${opts.jwksUri} answered ${res.status}`))
    }
    return res
  }
  const keys = createRemoteJWKSet(new URL(opts.jwksUri), {
    timeoutDuration: opts.timeoutMs,
    [customFetch]: fetchKeys,
  })

  /** The algorithms the issuer publishes keys for: the only ones a token may use. */
  function published(): Set<string> {
    const algs = new Set<string>()
    for (const key of keys.jwks()?.keys ?? []) {
      if (
        key.alg &&
        ASYMMETRIC.has(key.alg) &&
        (key.use === undefined || key.use === 'sig') &&
        (opts.accessTokenAlgs === undefined || opts.accessTokenAlgs.includes(key.alg))
      ) {
        algs.add(key.alg)
      }
    }
    return algs
  }

  async function reload(): Promise<void> {
    try {
      await keys.reload()
    } catch (err) {
      throw err instanceof VerifyError ? err : unavailable(err)
    }
  }

  return {
    /** Fetches the key set; the algorithms it publishes (empty: no asymmetric keys). */
    async load(): Promise<Set<string>> {
      await reload()
      return published()
    },

    accepts(alg: string | undefined): boolean {
      return alg !== undefined && ASYMMETRIC.has(alg)
    },

    async verify(token: string, alg: string): Promise<JWTPayload> {
      let algs = published()
      // An algorithm the cached set lacks may be a key migration: look once, within the cooldown.
      if (!algs.has(alg) && !keys.coolingDown) {
        await reload()
        algs = published()
      }
      if (!algs.has(alg)) throw invalidToken()
      try {
        const { payload } = await jwtVerify(token, keys, {
          algorithms: [...algs],
          typ: 'at+jwt',
          issuer: opts.issuer,
          audience: opts.audience,
          clockTolerance: opts.clockToleranceSeconds,
          requiredClaims: REQUIRED_CLAIMS,
        })
        return payload
      } catch (err) {
        if (err instanceof VerifyError) throw err
        // The issuer could not be reached for keys: not the token's fault.
        if (err instanceof errors.JWKSTimeout || !(err instanceof errors.JOSEError)) {
          throw unavailable(err)
        }
        throw invalidToken(err)
      }
    },
  }
}
