import type { Client } from '../../domain/client.js'
import { grantScope, type Scope, scopesUserMayHold } from '../../domain/scopes.js'
import type { Session } from '../../domain/session.js'
import type { User } from '../../domain/user.js'
import { KeygateError } from '../../errors.js'
import {
  type AuthorizationRequest,
  type AuthorizeParams,
  checkAuthorizationRequest,
  errorRedirect,
} from './authorization-request.js'
import type { AuthorizeOutcome } from './authorize.js'
import type { ConsentsService } from './consents.js'

type Browser = { session: Session; user: User }

export interface ConsentServiceDeps {
  publicUrl: string
  issuer: string
  clients: { find(clientId: string | undefined): Promise<Client | undefined> }
  redirectUriMatches: (registered: string[], presented: string) => boolean
  consents: Pick<ConsentsService, 'decide' | 'needed' | 'grant'>
  consentRequests: {
    seal(params: AuthorizeParams, sessionId: string): string
    open(sealed: unknown, sessionId: string): AuthorizeParams | undefined
  }
  /** the authorization endpoint, to finish a request once it is allowed */
  authorize: { authorize(params: AuthorizeParams, browser: Browser): Promise<AuthorizeOutcome> }
}

/** The authorization endpoint's answer about consent. */
export type ConsentOutcome =
  | { kind: 'granted' }
  /** prompt=none, and the page would be needed: `consent_required` */
  | { kind: 'required' }
  /** to the consent page, carrying the request sealed to this browser */
  | { kind: 'ask'; location: string }

/** A consent page's request, checked again: what it names and what it would grant. */
export interface PendingConsent {
  params: AuthorizeParams
  request: AuthorizationRequest
  /** what the code would carry: requested ∩ what the user may hold ∩ what the client allows */
  scope: Scope[]
  /** the part of it not consented before */
  added: Scope[]
}

/** prompt=consent is satisfied by the page the user just answered. */
function withoutConsentPrompt(params: AuthorizeParams): AuthorizeParams {
  const [prompt] = params.prompt ?? []
  if (prompt === undefined) return params
  const { prompt: _, ...rest } = params
  const kept = prompt
    .split(' ')
    .filter((p) => p !== '' && p !== 'consent')
    .join(' ')
  return kept === '' ? rest : { ...rest, prompt: [kept] }
}

/**
 * The consent step of an authorization (SPEC §7 "Consent"). The endpoint asks
 * `decide`; a third-party client asking for more than was consented (or with
 * prompt=consent) sends the browser to the consent page, which carries the
 * request sealed to the browser session (consent-requests.ts). Every use of
 * that seal checks the request against the registry again, so neither a
 * changed client nor a hand-edited form can move the redirect URI or widen
 * the scope.
 */
export function createConsentService(deps: ConsentServiceDeps) {
  const { publicUrl, issuer, clients, redirectUriMatches, consents, consentRequests } = deps

  async function pending(sealed: unknown, browser: Browser): Promise<PendingConsent | undefined> {
    const params = consentRequests.open(sealed, browser.session.id)
    if (!params) return undefined
    const client = await clients.find(params.client_id?.[0])
    const check = checkAuthorizationRequest(params, { client, redirectUriMatches })
    if (check.kind !== 'ok') return undefined
    const { request } = check
    let scope: Scope[]
    try {
      scope = grantScope({
        requested: request.scopes.length > 0 ? request.scopes.join(' ') : undefined,
        userMay: scopesUserMayHold(browser.user),
        clientAllows: request.client.scopes,
      })
    } catch (err) {
      if (err instanceof KeygateError && err.code === 'INVALID_SCOPE') return undefined
      throw err
    }
    const added = await consents.needed(browser.user, request.client, scope)
    return { params, request, scope, added }
  }

  return {
    /** Whether the request `params` (checked as `request`) may go on with `scope`. */
    async decide(
      params: AuthorizeParams,
      request: AuthorizationRequest,
      browser: Browser,
      scope: readonly Scope[],
    ): Promise<ConsentOutcome> {
      const d = await consents.decide(browser.user, request.client, scope, request.prompt)
      if (d.kind === 'granted') return { kind: 'granted' }
      if (d.kind === 'consent_required') return { kind: 'required' }
      const sealed = consentRequests.seal(params, browser.session.id)
      return {
        kind: 'ask',
        location: `${publicUrl}/consent?${new URLSearchParams({ request: sealed })}`,
      }
    },

    /** The request a consent page shows; undefined when the seal or the request no longer holds. */
    pending,

    /**
     * The user's answer. Deny sends the browser back with `access_denied`,
     * `state` and `iss` (RFC 6749 §4.1.2.1, RFC 9207) and remembers nothing;
     * allow remembers the grant and finishes the authorization, which now
     * finds it consented. Undefined when the request no longer holds.
     */
    async answer(
      sealed: unknown,
      browser: Browser,
      decision: 'allow' | 'deny',
      source: { ip?: string; userAgent?: string; requestId?: string } = {},
    ): Promise<AuthorizeOutcome | undefined> {
      const found = await pending(sealed, browser)
      if (!found) return undefined
      const { request } = found
      if (decision === 'deny') {
        const refusal = {
          kind: 'redirect' as const,
          redirectUri: request.redirectUri,
          ...(request.state !== undefined && { state: request.state }),
          error: 'ACCESS_DENIED' as const,
        }
        return { kind: 'redirect', location: errorRedirect(refusal, issuer) }
      }
      await consents.grant(browser.user, request.client, found.scope, source)
      return deps.authorize.authorize(withoutConsentPrompt(found.params), browser)
    },
  }
}

export type ConsentService = ReturnType<typeof createConsentService>
