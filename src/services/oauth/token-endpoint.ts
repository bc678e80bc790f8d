import type { ClientContext, SignIn } from '../../domain/session.js'
import { KeygateError, ValidationError } from '../../errors.js'
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

const missing = (field: string) => ({
  loc: ['body', field],
  msg: 'Field required',
  type: 'missing',
})

/** The OAuth2 token endpoint's grants. */
export function createOAuthService(deps: { auth: AuthService; sessions: SessionsService }) {
  const { auth, sessions } = deps
  return {
    async grant(form: TokenRequest, ctx: ClientContext): Promise<SignIn> {
      const grantType = form.grant_type ?? 'password'
      if (grantType !== 'password' && grantType !== 'refresh_token') {
        throw new KeygateError('UNSUPPORTED_GRANT_TYPE')
      }
      const needed =
        grantType === 'password'
          ? (['username', 'password'] as const)
          : (['refresh_token'] as const)
      const absent = needed.filter((f) => form[f] === undefined)
      if (absent.length > 0) throw new ValidationError(absent.map(missing))
      // No scopes are defined yet; asking for one is invalid_scope (RFC 6749 §5.2).
      if (form.scope !== undefined && form.scope.trim() !== '')
        throw new KeygateError('INVALID_SCOPE')
      // RFC 6749 §6: a bad refresh token answers invalid_grant (plugins/errors.ts maps it).
      if (grantType === 'refresh_token') return sessions.refresh(form.refresh_token!)
      return auth.login(form.username!, form.password!, ctx)
    },

    /** The tutorials' JSON login: `{email, password}` or `{username, password}`. */
    async login(body: { email?: string; username?: string; password: string }, ctx: ClientContext) {
      const login = body.email ?? body.username
      if (login === undefined) throw new ValidationError([missing('username')])
      return auth.login(login, body.password, ctx)
    },
  }
}

export type OAuthService = ReturnType<typeof createOAuthService>
