/** One entry of FastAPI's validation error list. */
export interface ValidationIssue {
  loc: (string | number)[]
  msg: string
  type: string
}

export interface ErrorSpec {
  status: number
  detail: string
  /** RFC 6749 §5.2 error code, sent beside `detail` on the OAuth2 endpoints */
  oauthError?: string
  headers?: Record<string, string>
}

export const BEARER_CHALLENGE = 'Bearer realm="keygate"'
const INVALID_TOKEN_CHALLENGE = 'Bearer realm="keygate", error="invalid_token"'

/**
 * Every error Keygate answers with, and its exact wire text. Services throw
 * `new KeygateError('NAME')`; plugins/errors.ts renders it.
 */
export const ERRORS = Object.freeze({
  NOT_AUTHENTICATED: {
    status: 401,
    detail: 'Not authenticated',
    headers: { 'WWW-Authenticate': BEARER_CHALLENGE },
  },
  INVALID_TOKEN: {
    status: 401,
    detail: 'Could not validate credentials',
    headers: { 'WWW-Authenticate': INVALID_TOKEN_CHALLENGE },
  },
  // The JSON login answers as the tutorials do.
  INVALID_CREDENTIALS: {
    status: 401,
    detail: 'Invalid credentials',
    headers: { 'WWW-Authenticate': BEARER_CHALLENGE },
  },
  // RFC 6749 §5.2: 400 invalid_grant and no challenge header, or OAuth clients
  // (oauth4webapi) treat the answer as an auth challenge and never read the body.
  INVALID_GRANT: { status: 400, detail: 'Invalid credentials', oauthError: 'invalid_grant' },
  INVALID_REFRESH_TOKEN: {
    status: 401,
    detail: 'Invalid refresh token',
    headers: { 'WWW-Authenticate': INVALID_TOKEN_CHALLENGE },
  },
  UNSUPPORTED_GRANT_TYPE: {
    status: 400,
    detail: 'Unsupported grant type',
    oauthError: 'unsupported_grant_type',
  },
  INVALID_SCOPE: {
    status: 400,
    detail: 'Scopes are not supported',
    oauthError: 'invalid_scope',
  },
  INVALID_REQUEST: { status: 400, detail: 'Invalid request', oauthError: 'invalid_request' },
  INACTIVE_USER: { status: 403, detail: 'Inactive user' },
  FORBIDDEN: { status: 403, detail: 'Not enough permissions' },
  NOT_YOUR_POST: { status: 403, detail: 'Not enough permissions' },
  EMAIL_TAKEN: { status: 409, detail: 'Email already registered' },
  USERNAME_TAKEN: { status: 409, detail: 'Username already taken' },
  LAST_SUPERUSER: { status: 409, detail: 'Cannot remove the last active superuser' },
  USER_NOT_FOUND: { status: 404, detail: 'User not found' },
  POST_NOT_FOUND: { status: 404, detail: 'Post not found' },
  SESSION_NOT_FOUND: { status: 404, detail: 'Session not found' },
  WRONG_PASSWORD: { status: 400, detail: 'Incorrect password' },
  CURRENT_PASSWORD_REQUIRED: { status: 400, detail: 'Current password required' },
  INVALID_RESET_TOKEN: { status: 400, detail: 'Invalid or expired token' },
  RATE_LIMITED: { status: 429, detail: 'Too many requests' },
  NOT_FOUND: { status: 404, detail: 'Not Found' },
  METHOD_NOT_ALLOWED: { status: 405, detail: 'Method Not Allowed' },
  BODY_TOO_LARGE: { status: 413, detail: 'Request body too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, detail: 'Unsupported media type' },
  MALFORMED_BODY: { status: 400, detail: 'Malformed request body' },
  // RFC 9110 §10.2.3: Retry-After tells clients and load balancers when to try again.
  DATABASE_UNAVAILABLE: {
    status: 503,
    detail: 'Service temporarily unavailable',
    headers: { 'Retry-After': '5' },
  },
  INTERNAL: { status: 500, detail: 'Internal Server Error' },
  // /readyz: the body adds which dependency failed (http/root/health.ts).
  NOT_READY: { status: 503, detail: 'Not ready', headers: { 'Retry-After': '5' } },
} satisfies Record<string, ErrorSpec>)

export type ErrorName = keyof typeof ERRORS

export class KeygateError extends Error {
  readonly code: ErrorName
  readonly statusCode: number
  readonly detail: string
  readonly oauthError: string | undefined
  readonly headers: Record<string, string>

  constructor(code: ErrorName, options: { headers?: Record<string, string> } = {}) {
    const spec: ErrorSpec = ERRORS[code]
    super(spec.detail)
    this.name = 'KeygateError'
    this.code = code
    this.statusCode = spec.status
    this.detail = spec.detail
    this.oauthError = spec.oauthError
    this.headers = { ...spec.headers, ...options.headers }
  }
}

/** The 422 messages of the password policy (services/password-policy.ts). */
export const PASSWORD_MESSAGES = Object.freeze({
  tooShort: (n: number) => `String should have at least ${n} characters`,
  tooLong: (n: number) => `String should have at most ${n} characters`,
  common:
    'Value error, this password is too common: it appears in a list of commonly used passwords',
})

/** A 422 in FastAPI's shape for a rule checked in a service (e.g. a common password). */
export class ValidationError extends Error {
  override name = 'ValidationError'
  readonly statusCode = 422
  constructor(readonly issues: ValidationIssue[]) {
    super(issues.map((i) => i.msg).join('; '))
  }
}
