// The exact answers Keygate's own routes give (SPEC §3 "Bearer failures", §6 scopes), so a
// client sees one behaviour whether Keygate or a service behind this package refused it.

export const REALM = 'keygate'
const CHALLENGE = `Bearer realm="${REALM}"`

export type VerifyErrorCode =
  | 'not_authenticated'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'unavailable'

/** A refusal, carrying what to answer: `status`, `{"detail": detail}` and its headers. */
export class VerifyError extends Error {
  readonly code: VerifyErrorCode
  readonly status: 401 | 403 | 503
  readonly detail: string
  /** `WWW-Authenticate` value (RFC 6750 §3); absent on 503 */
  readonly wwwAuthenticate: string | undefined
  /** every header to send, `WWW-Authenticate` or `Retry-After` */
  readonly headers: Readonly<Record<string, string>>

  constructor(
    code: VerifyErrorCode,
    status: 401 | 403 | 503,
    detail: string,
    headers: Record<string, string>,
    options?: { cause?: unknown },
  ) {
    super(detail, options)
    this.name = 'VerifyError'
    this.code = code
    this.status = status
    this.detail = detail
    this.headers = Object.freeze({ ...headers })
    this.wwwAuthenticate = headers['WWW-Authenticate']
  }

  /** The JSON body Keygate answers with. */
  get body(): { detail: string } {
    return { detail: this.detail }
  }
}

/** RFC 6750 §3.1: no credentials at all is a plain challenge, without an error code. */
export const notAuthenticated = () =>
  new VerifyError('not_authenticated', 401, 'Not authenticated', { 'WWW-Authenticate': CHALLENGE })

/** Malformed, forged, expired, revoked, wrong issuer/audience/type: one answer for all. */
export const invalidToken = (cause?: unknown) =>
  new VerifyError(
    'invalid_token',
    401,
    'Could not validate credentials',
    { 'WWW-Authenticate': `${CHALLENGE}, error="invalid_token"` },
    { cause },
  )

/** RFC 6750 §3.1: `scope` names what the resource needs. */
export const insufficientScope = (needed: readonly string[]) =>
  new VerifyError('insufficient_scope', 403, 'Not enough permissions', {
    'WWW-Authenticate': `${CHALLENGE}, error="insufficient_scope", scope="${needed.join(' ')}"`,
  })

/**
 * Keygate could not be asked (introspection or the revocation feed unreachable). Not the
 * token's fault, so not a 401 that would make clients drop it; the same 503 Keygate
 * answers when its database is down.
 */
export const unavailable = (cause?: unknown) =>
  new VerifyError(
    'unavailable',
    503,
    'Service temporarily unavailable',
    { 'Retry-After': '5' },
    { cause },
  )
