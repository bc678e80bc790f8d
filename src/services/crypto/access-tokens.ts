import { randomUUID } from 'node:crypto'
import {
  type JWTHeaderParameters,
  type JWTPayload,
  errors as joseErrors,
  jwtVerify,
  SignJWT,
} from 'jose'
import type { Clock } from '../../domain/time.js'
import { KeygateError } from '../../errors.js'
import type { SigningKeys } from '../keys/signing-keys.js'
import { signHs256, verifyHs256Fast } from './hs256.js'
import { isCanonicalCompact, withinLifetime } from './jws-rules.js'

/**
 * A verified access token. A user's token has `sid` (its session); a
 * client_credentials token has none, and its `sub` is the client's id
 * (RFC 9068 §2.2).
 */
export interface AccessClaims {
  sub: string
  sid?: string
  jti: string
  client_id: string
  /** space-separated (RFC 9068 §2.2.3.1); undefined for a token issued before scopes existed */
  scope?: string
  iat: number
  exp: number
}

export interface TokenServiceOptions {
  keys: SigningKeys
  issuer: string
  audience: string
  accessTtlSeconds: number
  clock: Clock
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
// A token must never choose its own verification key.
const FORBIDDEN_HEADERS = ['jwk', 'jku', 'x5u', 'x5c'] as const
// `sid` is checked in verifyAccess: client_credentials tokens have none.
const REQUIRED_CLAIMS = ['exp', 'iat', 'sub', 'jti']

export function createTokenService(opts: TokenServiceOptions) {
  const { keys, issuer, audience, accessTtlSeconds, clock } = opts

  const keyFor = (kid: string | undefined) => {
    const key = keys.verificationKey(kid)
    return key instanceof Uint8Array ? key : undefined
  }
  // HS256 tokens of the usual shape skip jose's WebCrypto round trip (see hs256-fast.ts).
  function fastVerify(token: string) {
    if (keys.alg !== 'HS256') return 'defer'
    const now = Math.floor(clock.now().getTime() / 1000)
    return verifyHs256Fast(token, {
      keyFor,
      issuer,
      audience,
      requiredClaims: REQUIRED_CLAIMS,
      now,
      maxLifetimeSeconds: accessTtlSeconds,
    })
  }

  async function verifyWithJose(token: string): Promise<JWTPayload> {
    // jose decodes padded and non-canonical base64url; RFC 7515 §2 allows neither.
    if (!isCanonicalCompact(token)) throw new KeygateError('INVALID_TOKEN')
    // A key removed from the key file must stop verifying without a restart.
    await keys.syncIfStale()
    let payload: JWTPayload
    try {
      ;({ payload } = await jwtVerify(
        token,
        async (header) => {
          if (FORBIDDEN_HEADERS.some((h) => h in header)) {
            throw new joseErrors.JWSInvalid('embedded keys are not accepted')
          }
          // An unknown kid may be a key rotated in since the file was last read.
          if (!keys.verificationKey(header.kid)) await keys.sync()
          const key = keys.verificationKey(header.kid)
          if (!key) throw new joseErrors.JWKSNoMatchingKey()
          return key
        },
        {
          algorithms: [keys.alg],
          typ: 'at+jwt',
          issuer,
          audience,
          requiredClaims: REQUIRED_CLAIMS,
          currentDate: clock.now(),
        },
      ))
    } catch (err) {
      if (err instanceof joseErrors.JOSEError) throw new KeygateError('INVALID_TOKEN')
      throw err
    }
    const now = Math.floor(clock.now().getTime() / 1000)
    if (!withinLifetime(payload, now, accessTtlSeconds)) throw new KeygateError('INVALID_TOKEN')
    return payload
  }

  async function sign(claims: JWTPayload): Promise<string> {
    const iat = Math.floor(clock.now().getTime() / 1000)
    await keys.sync()
    const current = keys.current
    const header: JWTHeaderParameters = { alg: keys.alg, typ: 'at+jwt' }
    if (current.kid) header.kid = current.kid
    // The claim order is jose's: its SignJWT below and signHs256 give the same bytes.
    const payload: JWTPayload = {
      ...claims,
      iss: issuer,
      aud: audience,
      iat,
      exp: iat + accessTtlSeconds,
      jti: randomUUID(),
    }
    if (keys.alg === 'HS256' && current.key instanceof Uint8Array) {
      return signHs256(header, payload, current.key)
    }
    return new SignJWT(payload).setProtectedHeader(header).sign(current.key)
  }

  return {
    accessTtlSeconds,

    /** Signs an RFC 9068 access token (`typ: at+jwt`) for a user's session. */
    async issueAccess(claims: {
      sub: string
      sid: string
      clientId: string
      /** space-separated (RFC 9068 §2.2.3) */
      scope: string
      /** RFC 8176 authentication methods of the session's sign-in */
      amr?: string[]
    }): Promise<string> {
      return sign({
        sid: claims.sid,
        client_id: claims.clientId,
        scope: claims.scope,
        sub: claims.sub,
        ...(claims.amr && { amr: claims.amr }),
      })
    },

    /** A client_credentials token: the client is the subject, no session (RFC 9068 §2.2). */
    async issueClientAccess(claims: { clientId: string; scope: string }): Promise<string> {
      return sign({ client_id: claims.clientId, sub: claims.clientId, scope: claims.scope })
    },

    /**
     * Verifies signature and claims with the algorithm pinned to the configured
     * one (so `none` and algorithm confusion fail), `typ` pinned to at+jwt
     * (RFC 9068 §4), and `exp`, `iat`, `iss`, `aud` required, a lifetime no longer
     * than Keygate issues and canonical base64url (jws-rules.ts). Any failure is one 401.
     */
    async verifyAccess(token: string): Promise<AccessClaims> {
      const fast = fastVerify(token)
      if (fast === 'invalid') throw new KeygateError('INVALID_TOKEN')
      const payload = fast === 'defer' ? await verifyWithJose(token) : fast.payload
      const { sub, sid, jti, client_id, iat, exp, scope } = payload
      const base = { jti: String(jti), iat: iat as number, exp: exp as number }
      // A client's own token: no session, and the client is the subject.
      if (sid === undefined) {
        if (typeof sub !== 'string' || sub === '' || client_id !== sub) {
          throw new KeygateError('INVALID_TOKEN')
        }
        return { ...base, sub, client_id, scope: typeof scope === 'string' ? scope : '' }
      }
      if (
        typeof sub !== 'string' ||
        !UUID.test(sub) ||
        typeof sid !== 'string' ||
        !UUID.test(sid)
      ) {
        throw new KeygateError('INVALID_TOKEN')
      }
      return {
        ...base,
        sub,
        sid,
        client_id: typeof client_id === 'string' ? client_id : 'keygate',
        // Absent: a token from before scopes. Present but not a string: no scope at all.
        scope: scope === undefined ? undefined : typeof scope === 'string' ? scope : '',
      }
    },
  }
}

export type TokenService = ReturnType<typeof createTokenService>
