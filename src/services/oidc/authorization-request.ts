import type { Client } from '../../domain/client.js'
import { SCOPES } from '../../domain/scopes.js'
import { AUTHORIZE_ERRORS, type AuthorizeErrorName, type ErrorName } from '../../errors.js'

/** Request parameters, each with every value it was sent with (empty values dropped). */
export type AuthorizeParams = Record<string, string[]>

export type Prompt = 'none' | 'login' | 'consent'

/** A valid authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3, OIDC Core §3.1.2.1). */
export interface AuthorizationRequest {
  client: Client
  redirectUri: string
  state?: string
  scopes: string[]
  nonce?: string
  codeChallenge: string
  prompt: Prompt[]
  maxAge?: number
  loginHint?: string
}

export type AuthorizationCheck =
  /** the browser cannot be sent back: an error page (never a redirect) */
  | { kind: 'page'; error: Extract<ErrorName, `AUTHORIZE_${string}`> }
  /** RFC 6749 §4.1.2.1: the error goes back to the client's redirect URI */
  | { kind: 'redirect'; redirectUri: string; state?: string; error: AuthorizeErrorName }
  | { kind: 'ok'; request: AuthorizationRequest }

export interface AuthorizeRules {
  /** the registered client of that id, if any */
  client: Client | undefined
  /** exact match, loopback any port (RFC 8252 §7.3): the clients' rule */
  redirectUriMatches: (registered: string[], presented: string) => boolean
}

// RFC 6749 §3.3 scope-token: %x21 / %x23-5B / %x5D-7E.
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/
// RFC 7636 §4.2: BASE64URL(SHA256(verifier)) is 43 characters.
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/
const MAX_LENGTH = 2048
const KNOWN_SCOPES: ReadonlySet<string> = new Set(SCOPES)
const PROMPTS: ReadonlySet<string> = new Set(['none', 'login', 'consent'])

/** Reads a query string or form body into AuthorizeParams (RFC 6749 §3.1: empty means absent). */
export function toAuthorizeParams(entries: Iterable<[string, string]>): AuthorizeParams {
  const out: AuthorizeParams = Object.create(null)
  for (const [key, value] of entries) {
    if (value === '') continue
    out[key] = [...(out[key] ?? []), value]
  }
  return out
}

/**
 * Checks an authorization request in the order of RFC 6749 §4.1.2.1: first
 * whether the client and its redirect URI can be trusted — if not, the user
 * gets an error page and nobody gets a redirect (an open redirector otherwise)
 * — then everything else, each refusal sent back to the redirect URI.
 */
export function checkAuthorizationRequest(
  params: AuthorizeParams,
  rules: AuthorizeRules,
): AuthorizationCheck {
  const { client } = rules
  const clientIds = params.client_id ?? []
  if (clientIds.length !== 1 || !client || client.client_id !== clientIds[0]) {
    return { kind: 'page', error: 'AUTHORIZE_UNKNOWN_CLIENT' }
  }
  const redirects = params.redirect_uri ?? []
  const redirectUri = redirects[0]
  // OIDC Core §3.1.2.1: redirect_uri is required, and must match a registered one exactly.
  if (
    redirects.length !== 1 ||
    redirectUri === undefined ||
    !rules.redirectUriMatches(client.redirect_uris, redirectUri)
  ) {
    return { kind: 'page', error: 'AUTHORIZE_BAD_REDIRECT_URI' }
  }

  // From here on the redirect URI is trusted. `state` goes back verbatim if it was sent once.
  const states = params.state ?? []
  const state = states.length === 1 ? states[0] : undefined
  const refuse = (error: AuthorizeErrorName): AuthorizationCheck => ({
    kind: 'redirect',
    redirectUri,
    ...(state !== undefined && { state }),
    error,
  })

  const one = (name: string) => params[name]?.[0]
  const responseType = params.response_type ?? []
  if (responseType.length === 1 && responseType[0] !== 'code') {
    return refuse('UNSUPPORTED_RESPONSE_TYPE')
  }
  // RFC 6749 §3.1: no parameter may be sent twice.
  if (Object.values(params).some((values) => values.length > 1)) {
    return refuse('DUPLICATE_PARAMETER')
  }
  if (responseType.length === 0) return refuse('UNSUPPORTED_RESPONSE_TYPE')
  if (!client.grant_types.includes('authorization_code')) return refuse('UNAUTHORIZED_CLIENT')
  // OIDC Core §6: request objects are optional, and Keygate fetches none.
  if (one('request') !== undefined) return refuse('REQUEST_NOT_SUPPORTED')
  if (one('request_uri') !== undefined) return refuse('REQUEST_URI_NOT_SUPPORTED')
  if (Object.values(params).some(([v]) => v !== undefined && v.length > MAX_LENGTH)) {
    return refuse('TOO_LONG')
  }
  const mode = one('response_mode')
  if (mode !== undefined && mode !== 'query') return refuse('BAD_RESPONSE_MODE')

  // OAuth 2.1 §4.1.1 / RFC 9700 §2.1.1: PKCE for every client; only S256, since
  // `plain` gives nothing against a challenge seen in transit.
  const challenge = one('code_challenge')
  const method = one('code_challenge_method')
  if (challenge === undefined) return refuse('PKCE_REQUIRED')
  if (method !== 'S256') return refuse(method === undefined ? 'PKCE_REQUIRED' : 'PKCE_METHOD')
  if (!S256_CHALLENGE.test(challenge)) return refuse('BAD_CODE_CHALLENGE')

  const scopes = (one('scope') ?? '').split(' ').filter((s) => s !== '')
  if (scopes.some((s) => !SCOPE_TOKEN.test(s) || !KNOWN_SCOPES.has(s))) {
    return refuse('INVALID_SCOPE')
  }

  const prompt = (one('prompt') ?? '').split(' ').filter((p) => p !== '')
  // OIDC Core §3.1.2.1: `none` with any other value is an error.
  if (prompt.some((p) => !PROMPTS.has(p)) || (prompt.includes('none') && prompt.length > 1)) {
    return refuse('BAD_PROMPT')
  }
  const maxAgeText = one('max_age')
  if (maxAgeText !== undefined && !/^\d{1,9}$/.test(maxAgeText)) return refuse('BAD_MAX_AGE')

  const nonce = one('nonce')
  const loginHint = one('login_hint')
  return {
    kind: 'ok',
    request: {
      client,
      redirectUri,
      ...(state !== undefined && { state }),
      scopes: [...new Set(scopes)],
      ...(nonce !== undefined && { nonce }),
      codeChallenge: challenge,
      prompt: [...new Set(prompt)] as Prompt[],
      ...(maxAgeText !== undefined && { maxAge: Number(maxAgeText) }),
      ...(loginHint !== undefined && { loginHint }),
    },
  }
}

/** Where the browser goes with an error (RFC 6749 §4.1.2.1) or a code: the redirect URI plus the query. */
export function redirectWith(redirectUri: string, query: Record<string, string | undefined>) {
  const url = new URL(redirectUri)
  for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v)
  return url.toString()
}

/** The redirect of a refusal: `error`, `error_description`, `state`, and `iss` (RFC 9207). */
export function errorRedirect(
  check: Extract<AuthorizationCheck, { kind: 'redirect' }>,
  issuer: string,
): string {
  const { error, error_description } = AUTHORIZE_ERRORS[check.error]
  return redirectWith(check.redirectUri, {
    error,
    error_description,
    state: check.state,
    iss: issuer,
  })
}
