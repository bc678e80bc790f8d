import type { Client, GrantType } from '../../domain/client.js'
import { parseRequestedScope } from '../../domain/scopes.js'
import type { ClientContext, SignIn } from '../../domain/session.js'
import { type ErrorName, fieldIssue, KeygateError, ValidationError } from '../../errors.js'
import type { TokenService } from '../crypto/access-tokens.js'
import type { AuthorizationCodesService, CodeTokenAnswer } from '../oidc/authorization-codes.js'
import type { AuthService } from '../sessions/authentication.js'
import type { SessionsService } from '../sessions/sessions.js'
import type { ClientsService } from './clients.js'

/** The form of RFC 6749 §4.3 / §4.4 / §6 token requests, already stripped of empty values. */
export interface TokenRequest {
  grant_type?: string
  username?: string
  password?: string
  scope?: string
  refresh_token?: string
  client_id?: string
  client_secret?: string
  /** the MFA grant (SPEC §9): the token of the first step and one code */
  mfa_token?: string
  otp?: string
  recovery_code?: string
  /** grant_type=authorization_code (RFC 6749 §4.1.3, RFC 7636 §4.5) */
  code?: string
  redirect_uri?: string
  code_verifier?: string
}

/** RFC 6749 §4.4.3: a client_credentials answer has no refresh token, and names the scope. */
export interface ClientTokenAnswer {
  access_token: string
  token_type: 'bearer'
  expires_in: number
  scope: string
}

/** SPEC §9's extension grant (RFC 6749 §4.5) for the second step of a sign-in. */
export const MFA_GRANT = 'urn:keygate:params:oauth:grant-type:mfa'

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
  MFA_REQUIRED: 'MFA_REQUIRED_GRANT',
  INVALID_MFA: 'INVALID_MFA_GRANT',
}

function asGrantError(err: unknown): unknown {
  const mapped = err instanceof KeygateError ? GRANT_ERRORS[err.code] : undefined
  return mapped ? new KeygateError(mapped, { extra: (err as KeygateError).extra }) : err
}

const missing = (fields: (string | false)[]) =>
  new ValidationError(
    fields.filter((f) => f !== false).map((field) => fieldIssue(field, 'missing')),
  )

/** The grants the token endpoint knows; anything else is unsupported_grant_type. */
const SUPPORTED_GRANTS: readonly (GrantType | typeof MFA_GRANT)[] = [
  'authorization_code',
  'password',
  'refresh_token',
  'client_credentials',
  MFA_GRANT,
]
const isSupported = (g: string): g is GrantType | typeof MFA_GRANT =>
  (SUPPORTED_GRANTS as readonly string[]).includes(g)

/** `scope` as a set of tokens (RFC 6749 §3.3: space-separated, order irrelevant). */
const scopeTokens = (scope: string | undefined): string[] => [
  ...new Set((scope ?? '').split(' ').filter((s) => s !== '')),
]

export interface OAuthServiceDeps {
  auth: AuthService
  sessions: SessionsService
  clients: ClientsService
  tokens: TokenService
  codes: Pick<AuthorizationCodesService, 'exchange'>
}

/** The OAuth2 token endpoint's grants. */
export function createOAuthService(deps: OAuthServiceDeps) {
  const { auth, sessions, clients, tokens, codes } = deps

  /**
   * The authenticated client of a token request (RFC 6749 §2.3): from a Basic
   * header or the form; none at all is the built-in `keygate`. 401
   * invalid_client for an unknown client or a confidential one without its
   * secret. Every grant, the authorization_code one too, starts here.
   */
  const authenticateClient = (form: TokenRequest, headers: { authorization?: string }) =>
    clients.authenticate(form, headers.authorization)

  /** RFC 6749 §4.4: a confidential client's own token, no user, no refresh token. */
  async function clientCredentials(client: Client, form: TokenRequest): Promise<ClientTokenAnswer> {
    const requested = scopeTokens(form.scope)
    if (requested.some((s) => !client.scopes.includes(s))) {
      throw new KeygateError('SCOPE_NOT_ALLOWED')
    }
    const scope = (requested.length > 0 ? requested : client.scopes).join(' ')
    return {
      access_token: await tokens.issueClientAccess({ clientId: client.client_id, scope }),
      token_type: 'bearer',
      expires_in: tokens.accessTtlSeconds,
      scope,
    }
  }

  /** The grant's exchange, once its fields are known to be there (422 otherwise). */
  function exchangeFor(
    grantType: GrantType | typeof MFA_GRANT,
    form: TokenRequest,
    ctx: ClientContext,
    client: Client,
  ) {
    const { username, password, refresh_token: refreshToken } = form
    if (grantType === 'refresh_token') {
      if (refreshToken === undefined) throw missing(['refresh_token'])
      return () => sessions.refresh(refreshToken, form.scope, ctx)
    }
    if (grantType === MFA_GRANT) {
      const { mfa_token: mfaToken, otp, recovery_code: recoveryCode } = form
      if (mfaToken === undefined || (otp === undefined && recoveryCode === undefined)) {
        throw missing([mfaToken === undefined && 'mfa_token', otp === undefined && 'otp'])
      }
      return () =>
        auth.completeMfa(mfaToken, { otp, recovery_code: recoveryCode }, ctx, {
          requested: form.scope,
          clientAllows: client.scopes,
        })
    }
    if (username === undefined || password === undefined) {
      throw missing([username === undefined && 'username', password === undefined && 'password'])
    }
    return () =>
      auth.login(username, password, ctx, { requested: form.scope, clientAllows: client.scopes })
  }

  return {
    authenticateClient,

    /**
     * A token request: the grant type must be known (unsupported_grant_type),
     * the client authenticated (invalid_client) and registered for that grant
     * (unauthorized_client), in that order, before any credential is looked at.
     */
    async grant(
      form: TokenRequest,
      ctx: ClientContext,
      headers: { authorization?: string },
    ): Promise<SignIn | ClientTokenAnswer | CodeTokenAnswer> {
      const grantType = form.grant_type ?? 'password'
      if (!isSupported(grantType)) throw new KeygateError('UNSUPPORTED_GRANT_TYPE')
      const client = await authenticateClient(form, headers)
      // The MFA grant finishes a password sign-in: allowed wherever the password grant is.
      const registeredAs = grantType === MFA_GRANT ? 'password' : grantType
      if (!client.grant_types.includes(registeredAs)) throw new KeygateError('UNAUTHORIZED_CLIENT')
      if (grantType === 'client_credentials') return clientCredentials(client, form)
      if (grantType === 'authorization_code') return codes.exchange(client, form, ctx)
      const exchange = exchangeFor(grantType, form, { ...ctx, clientId: client.client_id }, client)
      // An unknown scope is refused before any password is checked (RFC 6749 §5.2).
      parseRequestedScope(form.scope)
      try {
        return await exchange()
      } catch (err) {
        throw asGrantError(err)
      }
    },

    /** The tutorials' JSON login: `{email, password}` or `{username, password}`, as the built-in client. */
    async login(body: { email?: string; username?: string; password: string }, ctx: ClientContext) {
      const login = body.email ?? body.username
      if (login === undefined) throw missing(['username'])
      return auth.login(login, body.password, ctx)
    },

    /** The JSON second step: `{mfa_token, otp}` or `{mfa_token, recovery_code}`. */
    async loginMfa(
      body: { mfa_token: string; otp?: string; recovery_code?: string },
      ctx: ClientContext,
    ) {
      if (body.otp === undefined && body.recovery_code === undefined) throw missing(['otp'])
      return auth.completeMfa(
        body.mfa_token,
        { otp: body.otp, recovery_code: body.recovery_code },
        ctx,
      )
    },
  }
}
