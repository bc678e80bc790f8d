import type { Config } from '../../config.js'
import type { Client } from '../../domain/client.js'
import { grantScope, scopesUserMayHold } from '../../domain/scopes.js'
import type { Session } from '../../domain/session.js'
import type { Clock } from '../../domain/time.js'
import type { User } from '../../domain/user.js'
import {
  AUTHORIZE_ERRORS,
  type AuthorizeErrorName,
  type ErrorName,
  KeygateError,
} from '../../errors.js'
import { OIDC_PATHS } from '../oauth/discovery.js'
import type { AuthorizationCodesService } from './authorization-codes.js'
import {
  type AuthorizationRequest,
  type AuthorizeParams,
  checkAuthorizationRequest,
  errorRedirect,
  redirectWith,
} from './authorization-request.js'
import type { ConsentService } from './consent.js'

/**
 * Keygate's own marker on the authorization URL it sends through the sign-in
 * page for prompt=login or an exceeded max_age: the sign-in must be newer
 * than this (milliseconds). A client may send it too; it can only ask for a
 * fresher sign-in than it would otherwise get.
 */
const AUTH_AFTER = 'auth_after'

/** What the authorization endpoint does with the browser. */
export type AuthorizeOutcome =
  /** an error page: the browser cannot be trusted back to the client */
  | { kind: 'page'; error: ErrorName }
  /** to the client's redirect URI (a code or an error), or to the sign-in page */
  | { kind: 'redirect'; location: string }

export interface AuthorizeDeps {
  config: Pick<Config, 'publicUrl' | 'jwtIssuer'>
  clock: Clock
  clients: { find(clientId: string | undefined): Promise<Client | undefined> }
  redirectUriMatches: (registered: string[], presented: string) => boolean
  codes: Pick<AuthorizationCodesService, 'issue'>
  consent: Pick<ConsentService, 'decide'>
}

/** The authorization endpoint (RFC 6749 §4.1.1, OIDC Core §3.1.2) as a decision. */
export function createAuthorizeService(deps: AuthorizeDeps) {
  const { config, clock, clients, redirectUriMatches, codes, consent } = deps
  const issuer = config.jwtIssuer

  const toClient = (request: AuthorizationRequest, query: Record<string, string | undefined>) =>
    redirectWith(request.redirectUri, { ...query, state: request.state, iss: issuer })
  const refuse = (request: AuthorizationRequest, name: AuthorizeErrorName): AuthorizeOutcome => ({
    kind: 'redirect',
    location: toClient(request, { ...AUTHORIZE_ERRORS[name] }),
  })

  /** The sign-in page, coming back to this same request (with `auth_after` when a fresh sign-in is due). */
  function signIn(params: AuthorizeParams, request: AuthorizationRequest, authAfter?: number) {
    const back = new URLSearchParams()
    for (const [key, [value]] of Object.entries(params)) {
      if (value === undefined || key === AUTH_AFTER) continue
      // prompt=login is satisfied by the sign-in this sends the user to.
      const kept = key === 'prompt' ? value.replace(/\blogin\b/, '').trim() : value
      if (kept !== '') back.set(key, kept)
    }
    if (authAfter !== undefined) back.set(AUTH_AFTER, String(authAfter))
    const query = new URLSearchParams({ return_to: `${OIDC_PATHS.authorize}?${back}` })
    if (request.loginHint !== undefined) query.set('login_hint', request.loginHint)
    return { kind: 'redirect' as const, location: `${config.publicUrl}/signin?${query}` }
  }

  return {
    async authorize(
      params: AuthorizeParams,
      browser: { session: Session; user: User } | null,
    ): Promise<AuthorizeOutcome> {
      const [clientId] = params.client_id ?? []
      const client = await clients.find(clientId)
      const check = checkAuthorizationRequest(params, { client, redirectUriMatches })
      if (check.kind === 'page') return check
      if (check.kind === 'redirect') {
        return { kind: 'redirect', location: errorRedirect(check, issuer) }
      }
      const { request } = check
      const now = clock.now().getTime()
      const none = request.prompt.includes('none')
      if (!browser) return none ? refuse(request, 'LOGIN_REQUIRED') : signIn(params, request)

      // OIDC Core §3.1.2.1: prompt=login and max_age ask for a sign-in newer than the request.
      const authTime = (browser.session.auth_time ?? browser.session.created_at).getTime()
      const [afterText] = params[AUTH_AFTER] ?? []
      const after =
        afterText !== undefined && /^\d{1,15}$/.test(afterText) ? Number(afterText) : undefined
      // Once Keygate has sent the browser to sign in for this request, a sign-in
      // after that moment satisfies prompt=login and max_age (even max_age=0).
      const tooOld =
        after !== undefined
          ? authTime < after
          : request.prompt.includes('login') ||
            (request.maxAge !== undefined && now - authTime > request.maxAge * 1000)
      if (tooOld) return none ? refuse(request, 'LOGIN_REQUIRED') : signIn(params, request, now)

      let scopes: ReturnType<typeof grantScope>
      try {
        scopes = grantScope({
          requested: request.scopes.length > 0 ? request.scopes.join(' ') : undefined,
          userMay: scopesUserMayHold(browser.user),
          clientAllows: request.client.scopes,
        })
      } catch (err) {
        if (err instanceof KeygateError && err.code === 'INVALID_SCOPE') {
          return refuse(request, 'INVALID_SCOPE')
        }
        throw err
      }
      const consented = await consent.decide(params, request, browser, scopes)
      if (consented.kind === 'required') return refuse(request, 'CONSENT_REQUIRED')
      if (consented.kind === 'ask') return { kind: 'redirect', location: consented.location }
      const code = await codes.issue(request, browser, scopes)
      return { kind: 'redirect', location: toClient(request, { code }) }
    },
  }
}
