import { parseRequestedScope } from '../../domain/scopes.js'
import type { ClientContext, SignIn } from '../../domain/session.js'
import { type ErrorName, fieldIssue, KeygateError, ValidationError } from '../../errors.js'
import type { AuthService } from '../sessions/authentication.js'
import type { SessionsService } from '../sessions/sessions.js'

/** The form of RFC 6749 §4.3 / §6 token requests, already stripped of empty values. */
export interface TokenRequest {
  grant_type?: string
  username?: string
  password?: string
  scope?: string
  refresh_token?: string
  client_id?: string
}

/**
 * RFC 6749 §5.2: the token endpoint answers a failed grant as OAuth clients
 * expect, not as the tutorials' JSON login does. A bad password and a bad
 * refresh token are both 400 invalid_grant with no WWW-Authenticate (a
 * challenge there makes clients such as oauth4webapi skip the body); a
 * deactivated account keeps its 403 but carries the invalid_grant code.
 */
const GRANT_ERRORS: Partial<Record<ErrorName, ErrorName>> = {
  INVALID_CREDENTIALS: 'INVALID_GRANT',
  INVALID_REFRESH_TOKEN: 'INVALID_GRANT',
  INACTIVE_USER: 'INACTIVE_USER_GRANT',
}

function asGrantError(err: unknown): unknown {
  const mapped = err instanceof KeygateError ? GRANT_ERRORS[err.code] : undefined
  return mapped ? new KeygateError(mapped) : err
}

const missing = (fields: (string | false)[]) =>
  new ValidationError(
    fields.filter((f) => f !== false).map((field) => fieldIssue(field, 'missing')),
  )

/** The OAuth2 token endpoint's grants. */
export function createOAuthService(deps: { auth: AuthService; sessions: SessionsService }) {
  const { auth, sessions } = deps

  /** The grant's exchange, once its fields are known to be there (422 otherwise). */
  function exchangeFor(grantType: string, form: TokenRequest, ctx: ClientContext) {
    const { username, password, refresh_token: refreshToken } = form
    if (grantType === 'refresh_token') {
      if (refreshToken === undefined) throw missing(['refresh_token'])
      return () => sessions.refresh(refreshToken, form.scope)
    }
    if (username === undefined || password === undefined) {
      throw missing([username === undefined && 'username', password === undefined && 'password'])
    }
    return () => auth.login(username, password, ctx, { requested: form.scope })
  }

  return {
    async grant(form: TokenRequest, ctx: ClientContext): Promise<SignIn> {
      const grantType = form.grant_type ?? 'password'
      if (grantType !== 'password' && grantType !== 'refresh_token') {
        throw new KeygateError('UNSUPPORTED_GRANT_TYPE')
      }
      const exchange = exchangeFor(grantType, form, ctx)
      // An unknown scope is refused before any password is checked (RFC 6749 §5.2).
      parseRequestedScope(form.scope)
      try {
        return await exchange()
      } catch (err) {
        throw asGrantError(err)
      }
    },

    /** The tutorials' JSON login: `{email, password}` or `{username, password}`. */
    async login(body: { email?: string; username?: string; password: string }, ctx: ClientContext) {
      const login = body.email ?? body.username
      if (login === undefined) throw missing(['username'])
      return auth.login(login, body.password, ctx)
    },
  }
}
