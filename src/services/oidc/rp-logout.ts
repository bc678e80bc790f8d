import type { Client } from '../../domain/client.js'
import type { ClientContext, Session } from '../../domain/session.js'
import type { User } from '../../domain/user.js'
import { redirectWith } from './authorization-request.js'
import type { IdTokenService } from './id-tokens.js'

/** The parameters of OIDC RP-Initiated Logout 1.0 §2. */
export interface LogoutParams {
  id_token_hint?: string
  client_id?: string
  post_logout_redirect_uri?: string
  state?: string
}

export type LogoutOutcome =
  /** no valid id_token_hint: ask the person first (no logout CSRF), carrying what was asked */
  | { kind: 'confirm'; clientName?: string; params: LogoutParams }
  /**
   * signed out: to the client's registered URI with `state`, or Keygate's
   * signed-out page; `here` when this browser's own session was among those ended
   */
  | { kind: 'done'; location?: string; here: boolean }

export interface RpLogoutDeps {
  clients: { find(clientId: string | undefined): Promise<Client | undefined> }
  idTokens: Pick<IdTokenService, 'verifyHint'>
  /** ends a browser session and its children, recording `logged_out` */
  browserSessions: { signOut(sessionId: string, ctx?: ClientContext): Promise<void> }
}

type Browser = { session: Session; user: User } | null

/** RP-initiated logout: which sessions end, and where the browser goes then. */
export function createRpLogoutService(deps: RpLogoutDeps) {
  const { clients, idTokens, browserSessions } = deps

  /**
   * The client the request names, and the URI to send the browser back to:
   * only an exact member of that client's post_logout_redirect_uris (§3), else none.
   */
  async function destination(params: LogoutParams, hintAudience?: string) {
    // §2: a client_id beside a hint must be the hint's audience.
    if (hintAudience && params.client_id && params.client_id !== hintAudience) return {}
    const client = await clients.find(hintAudience ?? params.client_id)
    const uri = params.post_logout_redirect_uri
    const location =
      client && uri !== undefined && client.post_logout_redirect_uris.includes(uri)
        ? redirectWith(uri, { state: params.state })
        : undefined
    return { client, location }
  }

  return {
    /**
     * GET or POST from the relying party. A valid hint (Keygate's signature,
     * expiry ignored, audience a registered client) signs out at once: the
     * browser session of this browser if it is the hint's user, and the one
     * the hint names (its `sid`), each with every session opened from it.
     * Without one, nothing ends before the person confirms.
     */
    async request(
      params: LogoutParams,
      browser: Browser,
      ctx: ClientContext = {},
    ): Promise<LogoutOutcome> {
      const hint = params.id_token_hint
        ? await idTokens.verifyHint(params.id_token_hint)
        : undefined
      const { client, location } = await destination(params, hint?.aud)
      if (!hint || !client || client.client_id !== hint.aud) {
        return { kind: 'confirm', ...(client && { clientName: client.name }), params }
      }
      const here = browser !== null && browser.user.id === hint.sub
      if (here) await browserSessions.signOut(browser.session.id, { ...ctx, clientId: hint.aud })
      if (hint.sid !== undefined && hint.sid !== browser?.session.id) {
        await browserSessions.signOut(hint.sid, { ...ctx, clientId: hint.aud })
      }
      return { kind: 'done', here, ...(location && { location }) }
    },

    /** The person confirmed on Keygate's page (a CSRF-checked form): this browser signs out. */
    async confirm(
      params: LogoutParams,
      browser: Browser,
      ctx: ClientContext = {},
    ): Promise<LogoutOutcome> {
      if (browser) await browserSessions.signOut(browser.session.id, ctx)
      const { location } = await destination({ ...params, id_token_hint: undefined })
      return { kind: 'done', here: true, ...(location && { location }) }
    },
  }
}
