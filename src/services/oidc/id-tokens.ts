import { errors as joseErrors, jwtVerify, SignJWT } from 'jose'
import type { Clock } from '../../domain/time.js'
import type { User } from '../../domain/user.js'
import type { SigningKeys } from '../keys/signing-keys.js'
import { claimsFor } from './user-claims.js'

/** What an ID token states about one authentication (OIDC Core §2). */
export interface IdTokenFacts {
  user: User
  clientId: string
  /** the browser session the user signed in with (`sid`, OIDC Front-Channel Logout §2) */
  browserSessionId: string
  authTime: Date
  /** RFC 8176 methods: pwd, otp, hwk, swk, mfa */
  amr: string[]
  scopes: readonly string[]
  nonce?: string | null
}

/** The claims of an ID token presented back to Keygate as `id_token_hint`. */
export interface IdTokenHint {
  sub: string
  aud: string
  sid?: string
}

const seconds = (d: Date) => Math.floor(d.getTime() / 1000)

/** Signs ID tokens with an asymmetric key from the JWKS and checks the ones presented back. */
export function createIdTokenService(deps: {
  keys: SigningKeys
  issuer: string
  /** lifetime in seconds; ID tokens live as long as access tokens */
  ttlSeconds: number
  clock: Clock
}) {
  const { keys, issuer, ttlSeconds, clock } = deps

  return {
    /** OIDC Core §3.1.3.7 ID token: iss, sub, aud, exp, iat, auth_time, nonce, sid, amr + scope claims. */
    async issue(f: IdTokenFacts): Promise<string> {
      await keys.sync()
      const { kid, key } = keys.current
      const iat = seconds(clock.now())
      return new SignJWT({
        ...claimsFor(f.user, f.scopes),
        auth_time: seconds(f.authTime),
        ...(f.nonce ? { nonce: f.nonce } : {}),
        sid: f.browserSessionId,
        amr: f.amr,
      })
        .setProtectedHeader({ alg: keys.alg, typ: 'JWT', ...(kid && { kid }) })
        .setIssuer(issuer)
        .setSubject(f.user.id)
        .setAudience(f.clientId)
        .setIssuedAt(iat)
        .setExpirationTime(iat + ttlSeconds)
        .sign(key)
    },

    /**
     * An `id_token_hint` (OIDC RP-Initiated Logout §2): Keygate's own signature
     * and issuer are required, expiry is not (the RP may well hold an expired
     * one). Anything else, or a token of ours that is not an ID token, is undefined.
     */
    async verifyHint(token: string): Promise<IdTokenHint | undefined> {
      try {
        const { payload } = await jwtVerify(
          token,
          async (header) => {
            if (!keys.verificationKey(header.kid)) await keys.sync()
            const key = keys.verificationKey(header.kid)
            if (!key) throw new joseErrors.JWKSNoMatchingKey()
            return key
          },
          {
            algorithms: [keys.alg],
            typ: 'JWT',
            issuer,
            // Expiry ignored: a far-future "now" would be worse, so the tolerance is unbounded.
            clockTolerance: Number.MAX_SAFE_INTEGER,
            currentDate: clock.now(),
          },
        )
        const { sub, aud, sid } = payload
        if (typeof sub !== 'string' || typeof aud !== 'string') return undefined
        return { sub, aud, ...(typeof sid === 'string' && { sid }) }
      } catch (err) {
        if (err instanceof joseErrors.JOSEError || err instanceof TypeError) return undefined
        throw err
      }
    },
  }
}

export type IdTokenService = ReturnType<typeof createIdTokenService>
