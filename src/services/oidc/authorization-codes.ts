import { createHash, randomBytes, randomUUID } from 'node:crypto'
import type { Config } from '../../config.js'
import type { Client } from '../../domain/client.js'
import { getsRefreshToken } from '../../domain/consent.js'
import { formatScope, type Scope } from '../../domain/scopes.js'
import { type ClientContext, idleExpiry, isLive, type Session } from '../../domain/session.js'
import { type Clock, DAY_MS } from '../../domain/time.js'
import type { User } from '../../domain/user.js'
import { KeygateError } from '../../errors.js'
import type { UsersRepo } from '../../repos/accounts/users.js'
import type { AuthorizationCodesRepo } from '../../repos/oauth/authorization-codes.js'
import type { SessionsRepo } from '../../repos/sessions/sessions.js'
import type { Transact } from '../../repos/support/transaction.js'
import type { TokenService } from '../crypto/access-tokens.js'
import { pkceMatches } from '../oauth/pkce.js'
import type { AuthService } from '../sessions/authentication.js'
import type { AuthorizationRequest } from './authorization-request.js'
import type { IdTokenService } from './id-tokens.js'

/** RFC 6749 §4.1.2 recommends at most 10 minutes; SPEC §7 says 60 seconds. */
const CODE_TTL_MS = 60_000
// A spent code's row outlives its expiry a while, so a late replay still revokes (§4.1.2).
const KEEP_SPENT_MS = 10 * 60_000

const hashCode = (code: string) => createHash('sha256').update(code).digest('hex')

/** The answer to a successful code exchange (RFC 6749 §5.1, OIDC Core §3.1.3.3). */
export interface CodeTokenAnswer {
  access_token: string
  token_type: 'bearer'
  expires_in: number
  refresh_token?: string
  scope: string
  id_token?: string
}

export interface CodeExchangeForm {
  code?: string
  redirect_uri?: string
  code_verifier?: string
}

export interface AuthorizationCodesDeps {
  config: Pick<Config, 'refreshTokenExpireDays' | 'sessionMaxDays'>
  clock: Clock
  codes: AuthorizationCodesRepo
  sessions: SessionsRepo
  users: UsersRepo
  transact: Transact
  auth: Pick<AuthService, 'issuePair'>
  tokens: Pick<TokenService, 'issueAccess' | 'accessTtlSeconds'>
  idTokens: Pick<IdTokenService, 'issue'>
}

/** Authorization codes: issued at the authorization endpoint, spent at the token endpoint. */
export function createAuthorizationCodesService(deps: AuthorizationCodesDeps) {
  const { config, clock, codes, sessions, users, transact, auth, tokens, idTokens } = deps
  const invalid = () => new KeygateError('INVALID_AUTHORIZATION_CODE')

  /** RFC 6749 §4.1.2: a replayed code revokes the session (and tokens) issued from it. */
  async function revokeIssued(
    sessionId: string | null | undefined,
    userId: string,
    clientId: string,
    ctx: ClientContext,
  ) {
    if (!sessionId) return
    const now = clock.now()
    await transact(async (tx) => {
      if (!(await tx.sessions.revoke(sessionId, now))) return
      const details = { session_id: sessionId, reason: 'authorization_code_replayed' }
      const source = { ...ctx, clientId }
      await tx.audit.record({ type: 'session_revoked', userId, source, details }, now)
    })
  }

  return {
    /** A fresh code for an authorization the user made in this browser session. */
    async issue(
      request: AuthorizationRequest,
      browser: { session: Session; user: User },
      scopes: readonly Scope[],
    ): Promise<string> {
      const code = randomBytes(32).toString('base64url')
      const now = clock.now()
      await codes.insert({
        code_hash: hashCode(code),
        client_id: request.client.client_id,
        redirect_uri: request.redirectUri,
        code_challenge: request.codeChallenge,
        scopes: [...scopes],
        nonce: request.nonce ?? null,
        user_id: browser.user.id,
        browser_session_id: browser.session.id,
        auth_time: browser.session.auth_time ?? browser.session.created_at,
        amr: browser.session.amr.length > 0 ? browser.session.amr : ['pwd'],
        created_at: now,
        expires_at: new Date(now.getTime() + CODE_TTL_MS),
      })
      return code
    },

    /**
     * `grant_type=authorization_code` for an authenticated client (RFC 6749
     * §4.1.3, RFC 7636 §4.6). Every mismatch is the same invalid_grant, so a
     * guesser learns nothing about which binding failed. A code seen a second
     * time is a replay: the session opened from it is revoked (§4.1.2), so the
     * tokens of whoever exchanged it first stop working too.
     */
    async exchange(
      client: Client,
      form: CodeExchangeForm,
      ctx: ClientContext,
    ): Promise<CodeTokenAnswer> {
      if (form.code === undefined) throw new KeygateError('INVALID_REQUEST')
      const now = clock.now()
      const codeHash = hashCode(form.code)
      const found = await codes.findByHash(codeHash)
      if (!found) throw invalid()
      if (found.used_at !== null) {
        await revokeIssued(found.issued_session_id, found.user_id, client.client_id, ctx)
        throw invalid()
      }
      if (
        found.expires_at <= now ||
        found.client_id !== client.client_id ||
        found.redirect_uri !== form.redirect_uri ||
        !pkceMatches(form.code_verifier, found.code_challenge)
      ) {
        throw invalid()
      }
      // The browser session must still be live: signing out in between kills the code.
      const browser = await sessions.findById(found.browser_session_id)
      const user = await users.findById(found.user_id)
      if (!browser || !isLive(browser, now) || !user?.is_active) throw invalid()

      const sessionId = randomUUID()
      const max = new Date(now.getTime() + config.sessionMaxDays * DAY_MS)
      const scope = found.scopes as Scope[]
      // The code is spent and its session written in one transaction: a replay
      // that finds the code spent then always finds the session to revoke.
      const won = await transact(async (tx) => {
        if (!(await tx.authorizationCodes.consume(codeHash, sessionId, now))) return false
        // Its own session and refresh family, a child of the browser session
        // (SPEC §7), so signing out of the browser ends it.
        await tx.sessions.insert({
          id: sessionId,
          user_id: user.id,
          client_id: client.client_id,
          created_at: now,
          last_used_at: now,
          expires_at: idleExpiry(now, config.refreshTokenExpireDays, max),
          max_expires_at: max,
          user_agent: ctx.userAgent?.slice(0, 512) ?? null,
          ip: ctx.ip ?? null,
          scope: formatScope(scope),
          parent_id: browser.id,
          auth_time: found.auth_time,
          amr: found.amr,
        })
        await tx.audit.record(
          {
            type: 'sign_in_succeeded',
            userId: user.id,
            source: { ...ctx, clientId: client.client_id },
            details: { via: 'authorization_code', session_id: sessionId, amr: found.amr.join(' ') },
          },
          now,
        )
        return true
      })
      if (!won) {
        // Lost the race to a concurrent exchange: that is a replay too.
        const winner = await codes.findByHash(codeHash)
        await revokeIssued(winner?.issued_session_id, found.user_id, client.client_id, ctx)
        throw invalid()
      }
      // OIDC Core §11: a refresh token for a first-party client, or one granted offline_access.
      const withRefresh = getsRefreshToken(client, scope)
      const pair = withRefresh
        ? // RFC 8176 amr of the browser sign-in (a passkey: hwk/swk + user), not a default pwd.
          await auth.issuePair(user, sessionId, client.client_id, max, scope, found.amr)
        : {
            access_token: await tokens.issueAccess({
              sub: user.id,
              sid: sessionId,
              clientId: client.client_id,
              scope: formatScope(scope),
              amr: found.amr,
            }),
            token_type: 'bearer' as const,
            expires_in: tokens.accessTtlSeconds,
            scope: formatScope(scope),
          }
      if (!scope.includes('openid')) return pair
      const idToken = await idTokens.issue({
        user,
        clientId: client.client_id,
        browserSessionId: browser.id,
        authTime: found.auth_time,
        amr: found.amr,
        scopes: scope,
        nonce: found.nonce,
      })
      return { ...pair, id_token: idToken }
    },

    /** Deletes codes well past their expiry (the pruner). */
    prune: () => codes.deleteExpired(new Date(clock.now().getTime() - KEEP_SPENT_MS)),
  }
}

export type AuthorizationCodesService = ReturnType<typeof createAuthorizationCodesService>
