/** One entry of FastAPI's validation error list, as sent (`loc` is built by the HTTP layer). */
export interface ValidationIssue {
  loc: (string | number)[]
  msg: string
  type: string
}

export interface ErrorSpec {
  status: number
  detail: string
  /** RFC 6749 §5.2 code, sent as `error` beside `detail` (only the OAuth services raise these) */
  oauthError?: string
  headers?: Record<string, string>
}

export const BEARER_CHALLENGE = 'Bearer realm="keygate"'
/** RFC 6749 §5.2: the answer to a client that failed to authenticate with a Basic header. */
export const BASIC_CHALLENGE = 'Basic realm="keygate"'
const INVALID_TOKEN_CHALLENGE = 'Bearer realm="keygate", error="invalid_token"'
const INVALID_CREDENTIALS = 'Invalid credentials'
const INACTIVE_USER = 'Inactive user'
const SECOND_FACTOR_REQUIRED = 'Second factor required'
const INVALID_CODE = 'Invalid or expired code'

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
    detail: INVALID_CREDENTIALS,
    headers: { 'WWW-Authenticate': BEARER_CHALLENGE },
  },
  // RFC 6749 §5.2: 400 invalid_grant and no challenge header, or OAuth clients
  // (oauth4webapi) treat the answer as an auth challenge and never read the body.
  // The token endpoint answers it for a bad password and a bad refresh token alike.
  INVALID_GRANT: { status: 400, detail: INVALID_CREDENTIALS, oauthError: 'invalid_grant' },
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
    detail: 'The requested scope is invalid, unknown, or exceeds the scope granted',
    oauthError: 'invalid_scope',
  },
  INVALID_REQUEST: { status: 400, detail: 'Invalid request', oauthError: 'invalid_request' },
  // RFC 6749 §5.2: one answer for every way a code can fail (unknown, spent,
  // expired, another client's, another redirect URI, a wrong PKCE verifier).
  INVALID_AUTHORIZATION_CODE: {
    status: 400,
    detail: 'Invalid authorization code',
    oauthError: 'invalid_grant',
  },
  // RFC 6749 §5.2: an unregistered client_id, or a confidential client's wrong or
  // missing secret. The service adds `WWW-Authenticate: Basic` when Basic was used.
  INVALID_CLIENT: {
    status: 401,
    detail: 'Client authentication failed',
    oauthError: 'invalid_client',
  },
  UNAUTHORIZED_CLIENT: {
    status: 400,
    detail: 'This client may not use this grant type',
    oauthError: 'unauthorized_client',
  },
  // client_credentials: a scope the client is not registered for.
  SCOPE_NOT_ALLOWED: {
    status: 400,
    detail: 'Requested scope is not allowed for this client',
    oauthError: 'invalid_scope',
  },
  CLIENT_NOT_FOUND: { status: 404, detail: 'Client not found' },
  PUBLIC_CLIENT_SECRET: { status: 409, detail: 'A public client has no secret' },
  BUILTIN_CLIENT: {
    status: 409,
    detail: 'The built-in client keygate cannot be changed or deleted',
  },
  INACTIVE_USER: { status: 403, detail: INACTIVE_USER },
  // The token endpoint's answer for a deactivated account with the right password:
  // the 403 of SPEC §3, with the RFC 6749 §5.2 code an OAuth client looks for.
  INACTIVE_USER_GRANT: { status: 403, detail: INACTIVE_USER, oauthError: 'invalid_grant' },
  FORBIDDEN: { status: 403, detail: 'Not enough permissions' },
  NOT_YOUR_POST: { status: 403, detail: 'Not enough permissions' },
  // RFC 6750 §3.1: a valid token without the route's scope. Thrown through
  // insufficientScope(), which adds the challenge naming the scope needed.
  INSUFFICIENT_SCOPE: {
    status: 403,
    detail: 'Not enough permissions',
    headers: { 'WWW-Authenticate': `${BEARER_CHALLENGE}, error="insufficient_scope"` },
  },
  EMAIL_TAKEN: { status: 409, detail: 'Email already registered' },
  USERNAME_TAKEN: { status: 409, detail: 'Username already taken' },
  LAST_SUPERUSER: { status: 409, detail: 'Cannot remove the last active superuser' },
  USER_NOT_FOUND: { status: 404, detail: 'User not found' },
  POST_NOT_FOUND: { status: 404, detail: 'Post not found' },
  SESSION_NOT_FOUND: { status: 404, detail: 'Session not found' },
  // The revocation feed cannot continue from this cursor: start over without one.
  CURSOR_EXPIRED: { status: 410, detail: 'Revocation feed cursor expired; resync without after' },
  APP_NOT_FOUND: { status: 404, detail: 'App not found' },
  // The consent page's request is sealed to one browser session for ten minutes.
  CONSENT_REQUEST_EXPIRED: {
    status: 400,
    detail: 'This request has expired or is no longer valid. Go back to the app and try again.',
  },
  WRONG_PASSWORD: { status: 400, detail: 'Incorrect password' },
  CURRENT_PASSWORD_REQUIRED: { status: 400, detail: 'Current password required' },
  INVALID_RESET_TOKEN: { status: 400, detail: 'Invalid or expired token' },
  // Passkeys (services/accounts/passkeys.ts). One answer for every failed
  // ceremony (bad signature, origin, RP ID, unknown or foreign credential, no
  // user verification), so a caller learns nothing about which check failed.
  PASSKEY_REJECTED: { status: 400, detail: 'Passkey not accepted' },
  PASSKEY_CHALLENGE_INVALID: { status: 400, detail: 'Passkey request expired, try again' },
  PASSKEY_NOT_FOUND: { status: 404, detail: 'Passkey not found' },
  PASSKEY_EXISTS: { status: 409, detail: 'Passkey already registered' },
  TOO_MANY_PASSKEYS: { status: 409, detail: 'Too many passkeys' },
  NO_PASSKEYS: { status: 400, detail: 'No passkey registered' },
  // Adding a factor needs a recent sign-in (ASVS 6.2, re-authentication); 403, not
  // 401, as these come from the pages' JSON endpoints, where no bearer challenge applies.
  PASSKEY_REAUTH_REQUIRED: { status: 403, detail: 'Sign in again to add a passkey' },
  SIGN_IN_REQUIRED: { status: 403, detail: 'Sign in first' },
  // The sign-in page's second step, by passkey, after its challenge died (5 minutes, 5 failures).
  SIGN_IN_EXPIRED: { status: 400, detail: 'This sign-in has expired. Sign in again.' },
  RATE_LIMITED: { status: 429, detail: 'Too many requests' },
  // A hosted page's form post without its CSRF token or from another origin (rendered as a page).
  CSRF_REFUSED: { status: 403, detail: 'Form refused' },
  NOT_FOUND: { status: 404, detail: 'Not Found' },
  METHOD_NOT_ALLOWED: { status: 405, detail: 'Method Not Allowed' },
  BODY_TOO_LARGE: { status: 413, detail: 'Request body too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, detail: 'Unsupported media type' },
  MALFORMED_BODY: { status: 400, detail: 'Malformed request body' },
  // The database or Redis is down. RFC 9110 §10.2.3: Retry-After tells clients
  // and load balancers when to try again.
  SERVICE_UNAVAILABLE: {
    status: 503,
    detail: 'Service temporarily unavailable',
    headers: { 'Retry-After': '5' },
  },
  INTERNAL: { status: 500, detail: 'Internal Server Error' },
  // The authorization endpoint cannot trust where to send the browser back
  // (RFC 6749 §4.1.2.1), so it shows an error page and never redirects.
  AUTHORIZE_UNKNOWN_CLIENT: {
    status: 400,
    detail: 'This application is not registered with Keygate, so you cannot sign in to it here.',
  },
  AUTHORIZE_BAD_REDIRECT_URI: {
    status: 400,
    detail:
      'This application asked to send you to an address it has not registered with Keygate, so the request was stopped.',
  },
  // /readyz: the body adds which dependency failed (http/root/health.ts).
  NOT_READY: { status: 503, detail: 'Not ready', headers: { 'Retry-After': '5' } },
  // SPEC §9: only after a correct password (so it reveals nothing to a guesser).
  EMAIL_NOT_VERIFIED: { status: 403, detail: 'Email not verified' },
  INVALID_EMAIL_TOKEN: { status: 400, detail: 'Invalid or expired token' },
  // A correct password on an account with a factor; the body adds `mfa_token`.
  MFA_REQUIRED: { status: 403, detail: SECOND_FACTOR_REQUIRED },
  MFA_REQUIRED_GRANT: {
    status: 403,
    detail: SECOND_FACTOR_REQUIRED,
    oauthError: 'mfa_required',
  },
  // A wrong, replayed or spent code, or a dead mfa_token, on the second step.
  INVALID_MFA: {
    status: 401,
    detail: INVALID_CODE,
    headers: { 'WWW-Authenticate': BEARER_CHALLENGE },
  },
  INVALID_MFA_GRANT: { status: 400, detail: INVALID_CODE, oauthError: 'invalid_grant' },
  // The factor routes: which of the two proofs was wrong (SPEC §9).
  WRONG_CODE: { status: 400, detail: 'Incorrect code' },
  TOTP_ALREADY_ENABLED: { status: 409, detail: 'TOTP is already enabled' },
  TOTP_NOT_STARTED: { status: 400, detail: 'TOTP enrolment not started' },
  TOTP_NOT_ENABLED: { status: 400, detail: 'TOTP is not enabled' },
} satisfies Record<string, ErrorSpec>)

export type ErrorName = keyof typeof ERRORS

export class KeygateError extends Error {
  readonly code: ErrorName
  readonly statusCode: number
  readonly detail: string
  readonly oauthError: string | undefined
  readonly headers: Record<string, string>
  /** fields the body carries beside `detail` (the `mfa_token` of MFA_REQUIRED) */
  readonly extra: Record<string, string>

  constructor(
    code: ErrorName,
    options: { headers?: Record<string, string>; extra?: Record<string, string> } = {},
  ) {
    const spec: ErrorSpec = ERRORS[code]
    super(spec.detail)
    this.name = 'KeygateError'
    this.code = code
    this.statusCode = spec.status
    this.detail = spec.detail
    this.oauthError = spec.oauthError
    this.headers = { ...spec.headers, ...options.headers }
    this.extra = { ...options.extra }
  }
}

/** 403 insufficient_scope whose challenge names the scope the route needs (RFC 6750 §3.1). */
export const insufficientScope = (needed: string): KeygateError =>
  new KeygateError('INSUFFICIENT_SCOPE', {
    headers: {
      'WWW-Authenticate': `${BEARER_CHALLENGE}, error="insufficient_scope", scope="${needed}"`,
    },
  })

const BAD_REQUEST = 'Bad Request'
/**
 * The detail sent for an error Keygate does not name itself (Fastify's router,
 * Node's HTTP parser, another plugin's 4xx), by status; anything else is a 400.
 */
export const STATUS_TEXT: Readonly<Record<number, string>> = Object.freeze({
  400: BAD_REQUEST,
  404: ERRORS.NOT_FOUND.detail,
  405: ERRORS.METHOD_NOT_ALLOWED.detail,
  406: 'Not Acceptable',
  408: 'Request Timeout',
  411: 'Length Required',
  413: ERRORS.BODY_TOO_LARGE.detail,
  414: 'URI Too Long',
  415: ERRORS.UNSUPPORTED_MEDIA_TYPE.detail,
  431: 'Request Header Fields Too Large',
})

export const statusText = (status: number): string => STATUS_TEXT[status] ?? BAD_REQUEST

export interface IssueSpec {
  /** pydantic's error type */
  type: string
  /** the message; `{name}` is filled from the issue's parameters */
  msg: string
}

/**
 * Every kind of 422 issue, in FastAPI's (pydantic's) wording, so clients
 * written against FastAPI read the same `type` and `msg`.
 */
export const ISSUES = Object.freeze({
  missing: { type: 'missing', msg: 'Field required' },
  jsonInvalid: { type: 'json_invalid', msg: 'JSON decode error' },
  stringType: { type: 'string_type', msg: 'Input should be a valid string' },
  intType: { type: 'int_type', msg: 'Input should be a valid integer' },
  floatType: { type: 'float_type', msg: 'Input should be a valid number' },
  boolType: { type: 'bool_type', msg: 'Input should be a valid boolean' },
  dictType: { type: 'dict_type', msg: 'Input should be a valid dictionary or object' },
  listType: { type: 'list_type', msg: 'Input should be a valid list' },
  noneType: { type: 'none_type', msg: 'Input should be None' },
  otherType: { type: 'type_error', msg: 'Invalid type' },
  email: { type: 'value_error', msg: 'value is not a valid email address' },
  uuid: { type: 'uuid_parsing', msg: 'Input should be a valid UUID' },
  otherFormat: { type: 'value_error', msg: 'Input should be a valid {format}' },
  tooShort: { type: 'string_too_short', msg: 'String should have at least {limit} characters' },
  tooLong: { type: 'string_too_long', msg: 'String should have at most {limit} characters' },
  pattern: { type: 'string_pattern_mismatch', msg: 'String has characters that are not allowed' },
  tooSmall: { type: 'greater_than_equal', msg: 'Input should be greater than or equal to {limit}' },
  tooBig: { type: 'less_than_equal', msg: 'Input should be less than or equal to {limit}' },
  noFields: { type: 'missing', msg: 'At least one field is required' },
  invalid: { type: 'value_error', msg: 'Invalid value' },
  // PostgreSQL text cannot hold U+0000; no field of Keygate's has a use for it.
  nullCharacter: { type: 'value_error', msg: 'String should not contain null characters' },
  // Registered clients' redirect URIs (services/oauth/redirect-uris.ts, SPEC §6).
  redirectUriInvalid: { type: 'value_error', msg: 'Value error, not an absolute URI' },
  redirectUriFragment: {
    type: 'value_error',
    msg: 'Value error, a redirect URI must not contain a fragment',
  },
  redirectUriWildcard: {
    type: 'value_error',
    msg: 'Value error, a redirect URI must not contain a wildcard',
  },
  redirectUriHttp: {
    type: 'value_error',
    msg: 'Value error, http is allowed only on a loopback IP literal (127.0.0.1 or [::1]); use https',
  },
  redirectUriScheme: {
    type: 'value_error',
    msg: 'Value error, this URI scheme cannot be a redirect URI',
  },
  redirectUriUserinfo: {
    type: 'value_error',
    msg: 'Value error, a redirect URI must not carry a user name or password',
  },
  publicClientCredentials: {
    type: 'value_error',
    msg: 'Value error, client_credentials needs a confidential client',
  },
  passwordGrantThirdParty: {
    type: 'value_error',
    msg: 'Value error, the password grant is for first-party clients only',
  },
  // NIST SP 800-63B-4 §3.1.1.2 (services/accounts/password-policy.ts).
  commonPassword: {
    type: 'value_error',
    msg: 'Value error, this password is too common: it appears in a list of commonly used passwords',
  },
} satisfies Record<string, IssueSpec>)

export type IssueName = keyof typeof ISSUES

/** The `type` and `msg` of an issue of kind `name`, its `{parameters}` filled in. */
export function describeIssue(
  name: IssueName,
  params: Record<string, string | number> = {},
): IssueSpec {
  const spec: IssueSpec = ISSUES[name]
  const msg = spec.msg.replace(/\{(\w+)\}/g, (all, key: string) => String(params[key] ?? all))
  return { type: spec.type, msg }
}

/** An invalid field as a service sees it: which field and why, without HTTP's `loc`. */
export interface FieldIssue extends IssueSpec {
  field: string
  /** the position in a list field, when the issue is one item's */
  index?: number
}

export const fieldIssue = (
  field: string,
  name: IssueName,
  params?: Record<string, string | number>,
): FieldIssue => ({ field, ...describeIssue(name, params) })

/** A 422 for a rule checked in a service (a missing grant field, a common password). */
export class ValidationError extends Error {
  override name = 'ValidationError'
  readonly statusCode = 422
  constructor(readonly issues: FieldIssue[]) {
    super(issues.map((i) => i.msg).join('; '))
  }
}

export interface AuthorizeErrorSpec {
  /** RFC 6749 §4.1.2.1 / OIDC Core §3.1.2.6 `error` */
  error: string
  error_description: string
}

/**
 * The authorization endpoint's refusals, sent back to the client's redirect
 * URI as `error` and `error_description` (with `state` and `iss`).
 */
export const AUTHORIZE_ERRORS = Object.freeze({
  UNSUPPORTED_RESPONSE_TYPE: {
    error: 'unsupported_response_type',
    error_description: 'Only response_type=code is supported',
  },
  UNAUTHORIZED_CLIENT: {
    error: 'unauthorized_client',
    error_description: 'This client may not use the authorization code grant',
  },
  DUPLICATE_PARAMETER: {
    error: 'invalid_request',
    error_description: 'A parameter was sent more than once',
  },
  PKCE_REQUIRED: {
    error: 'invalid_request',
    error_description: 'code_challenge and code_challenge_method=S256 are required (PKCE)',
  },
  PKCE_METHOD: {
    error: 'invalid_request',
    error_description: 'code_challenge_method must be S256; plain is not accepted',
  },
  BAD_CODE_CHALLENGE: {
    error: 'invalid_request',
    error_description: 'code_challenge must be 43 base64url characters (S256)',
  },
  INVALID_SCOPE: { error: 'invalid_scope', error_description: 'Unknown or malformed scope' },
  BAD_PROMPT: {
    error: 'invalid_request',
    error_description: 'prompt must be none, login or consent, and none stands alone',
  },
  BAD_MAX_AGE: {
    error: 'invalid_request',
    error_description: 'max_age must be a non-negative integer',
  },
  BAD_RESPONSE_MODE: {
    error: 'invalid_request',
    error_description: 'Only response_mode=query is supported',
  },
  TOO_LONG: { error: 'invalid_request', error_description: 'A parameter is too long' },
  REQUEST_NOT_SUPPORTED: {
    error: 'request_not_supported',
    error_description: 'Request objects are not supported',
  },
  REQUEST_URI_NOT_SUPPORTED: {
    error: 'request_uri_not_supported',
    error_description: 'request_uri is not supported',
  },
  LOGIN_REQUIRED: {
    error: 'login_required',
    error_description: 'The user is not signed in and prompt=none was asked',
  },
  CONSENT_REQUIRED: {
    error: 'consent_required',
    error_description: 'The user has not consented and prompt=none was asked',
  },
  ACCESS_DENIED: { error: 'access_denied', error_description: 'The user denied the request' },
} satisfies Record<string, AuthorizeErrorSpec>)

export type AuthorizeErrorName = keyof typeof AUTHORIZE_ERRORS

/** Texts on the wire that are not errors. */
export const NOTICES = Object.freeze({
  // The same answer whether or not the email has an account (no enumeration).
  RESET_REQUESTED: 'If an account uses this email, a password reset link has been sent to it.',
  // The same answer whatever the address's state (verified, just mailed, no SMTP).
  VERIFICATION_REQUESTED:
    'If your email address is not verified yet, a verification link has been sent to it.',
})
