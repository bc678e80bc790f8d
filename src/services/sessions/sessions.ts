import type { Config } from '../../config.js'
import { narrowScope, tokenScope } from '../../domain/scopes.js'
import {
  type AuthContext,
  type ClientContext,
  DEFAULT_CLIENT_ID,
  idleExpiry,
  isLive,
  type Session,
  type TokenPair,
} from '../../domain/session.js'
import type { Clock } from '../../domain/time.js'
import { insufficientScope, KeygateError } from '../../errors.js'
import type { UsersRepo } from '../../repos/accounts/users.js'
import type { RefreshToken, RefreshTokensRepo } from '../../repos/sessions/refresh-tokens.js'
import type { SessionsRepo } from '../../repos/sessions/sessions.js'
import type { Transact } from '../../repos/support/transaction.js'
import { type AuthService, hashRefreshToken, newRefreshToken } from './authentication.js'
import { openSuccessor, sealSuccessor } from './successor.js'

export interface SessionsServiceDeps {
  config: Pick<Config, 'refreshTokenExpireDays' | 'refreshReuseGraceSeconds'>
  clock: Clock
  auth: AuthService
  users: UsersRepo
  sessions: SessionsRepo
  /** names the client of each session in the user's list (SPEC §7) */
  clients?: { find(clientId: string): Promise<{ client: { name: string } } | undefined> }
  refreshTokens: RefreshTokensRepo
  transact: Transact
  metrics?: { refreshReuseDetected(): void }
  /** seals each spent token's successor (successor.ts) */
  sealKey: Uint8Array
}

// A chain spent more than a few times within one grace window is not a retry.
const MAX_HOPS = 8

/** Refresh rotation with reuse detection, logout, the user's session list, pruning. */
export function createSessionsService(deps: SessionsServiceDeps) {
  const { config, clock, auth, users, sessions, refreshTokens, transact } = deps
  const invalid = () => new KeygateError('INVALID_REFRESH_TOKEN')
  const graceMs = config.refreshReuseGraceSeconds * 1000
  const { sealKey } = deps

  /**
   * The live end of the chain a spent token started: its sealed successor,
   * and that one's, while they too were spent (inside the same window).
   */
  async function leafAfter(presented: string, token: RefreshToken, now: Date) {
    let plain = presented
    let row: RefreshToken | undefined = token
    for (let hops = 0; hops < MAX_HOPS && row; hops++) {
      if (row.used_at === null) return row.expires_at > now ? plain : undefined
      const next = row.successor && openSuccessor(plain, row.successor, sealKey)
      if (!next) return undefined
      plain = next
      row = await refreshTokens.findByHash(hashRefreshToken(plain))
    }
    return undefined
  }

  return {
    /**
     * Rotates a refresh token (RFC 9700 §4.14.2): every use spends it and
     * returns a new pair. A session has one refresh chain and only its newest
     * token is live. A spent token presented again within the grace window
     * (two tabs, a retried request) is answered with the successor already
     * issued, not a new one, so retries never fork the session into parallel
     * chains that reuse detection could not see. Presented after the window,
     * it is treated as stolen: the whole session is revoked, which also stops
     * its access tokens on their next request. A token is refreshed only by
     * the client it was issued to (RFC 6749 §6); another client's attempt is
     * refused before anything is spent.
     *
     * `scope` may narrow the new access token (RFC 6749 §6), never widen it:
     * the family keeps its grant, so a later refresh may ask for all of it again.
     */
    async refresh(presented: string, scope?: string, ctx: ClientContext = {}): Promise<TokenPair> {
      const now = clock.now()
      const hash = hashRefreshToken(presented)
      let token = await refreshTokens.findByHash(hash)
      if (!token || token.expires_at <= now) throw invalid()
      const session = await sessions.findById(token.session_id)
      if (
        !session ||
        !isLive(session, now) ||
        session.client_id !== (ctx.clientId ?? DEFAULT_CLIENT_ID)
      )
        throw invalid()
      const user = await users.findById(session.user_id)
      if (!user?.is_active) throw invalid()
      // Checked before the token is spent: a refused narrowing leaves the client its token.
      const granted = narrowScope(scope, tokenScope(session.scope, user))
      const idle = idleExpiry(now, config.refreshTokenExpireDays, session.max_expires_at)

      let refresh: string | undefined
      if (token.used_at === null) {
        const next = newRefreshToken()
        const child = {
          token_hash: hashRefreshToken(next),
          session_id: session.id,
          created_at: now,
          expires_at: idle,
        }
        const sealed = sealSuccessor(presented, next, sealKey)
        if (await refreshTokens.rotate(hash, child, sealed, now)) refresh = next
        // Lost the race to a concurrent rotation: that one spent it just now.
        else token = (await refreshTokens.findByHash(hash)) ?? token
      }
      if (refresh === undefined) {
        const usedAt = token.used_at ?? now
        // A zero grace window means no second use at all, even in the same millisecond.
        if (graceMs === 0 || now.getTime() - usedAt.getTime() > graceMs) {
          deps.metrics?.refreshReuseDetected()
          await transact(async (r) => {
            await r.sessions.revoke(session.id, now)
            const source = { ...ctx, clientId: session.client_id }
            const details = { session_id: session.id }
            await r.audit.record(
              { type: 'refresh_reuse_detected', userId: user.id, source, details },
              now,
            )
          })
          throw invalid()
        }
        refresh = await leafAfter(presented, token, now)
        if (refresh === undefined) throw invalid()
      }

      await transact(async (r) => {
        if (!(await r.sessions.touch(session.id, now, idle))) throw invalid()
        const source = { ...ctx, clientId: session.client_id }
        const details = { session_id: session.id }
        await r.audit.record({ type: 'token_refreshed', userId: user.id, source, details }, now)
      })
      return auth.pairWith(user, session.id, session.client_id, refresh, granted, session.amr)
    },

    /** Ends the caller's session, or with `all` every session of the user. */
    async logout(caller: AuthContext, all = false, ctx: ClientContext = {}): Promise<void> {
      // Ending one's own session needs no scope; ending every session is account management.
      if (all && !caller.scope.includes('account')) throw insufficientScope('account')
      const now = clock.now()
      await transact(async (r) => {
        if (all) await r.sessions.revokeAllForUser(caller.user.id, now)
        else await r.sessions.revoke(caller.sessionId, now)
        const details = { all, session_id: caller.sessionId }
        await r.audit.record(
          { type: 'logged_out', userId: caller.user.id, source: ctx, details },
          now,
        )
      })
    },

    /** The caller's live sessions, the one in use marked `current`. */
    async list(
      caller: AuthContext,
    ): Promise<(Session & { current: boolean; client_name: string | null })[]> {
      const live = await sessions.listLive(caller.user.id, clock.now())
      const names = new Map<string, string>()
      for (const id of new Set(live.map((s) => s.client_id))) {
        const stored = await deps.clients?.find(id)
        if (stored) names.set(id, stored.client.name)
      }
      return live.map((s) => ({
        ...s,
        current: s.id === caller.sessionId,
        client_name: names.get(s.client_id) ?? null,
      }))
    },

    /** Revokes one of the caller's own sessions; someone else's is a 404, like a missing one. */
    async revoke(caller: AuthContext, sessionId: string, ctx: ClientContext = {}): Promise<void> {
      const now = clock.now()
      await transact(async (r) => {
        if (!(await r.sessions.revokeForUser(sessionId, caller.user.id, now))) {
          throw new KeygateError('SESSION_NOT_FOUND')
        }
        const details = { session_id: sessionId, via: 'user' }
        await r.audit.record(
          { type: 'session_revoked', userId: caller.user.id, source: ctx, details },
          now,
        )
      })
    },

    /**
     * Deletes revoked and expired sessions (with their tokens) and refresh
     * tokens past their expiry. Spent tokens of a live session are kept until
     * they expire: reuse detection needs to recognise them.
     */
    async prune(): Promise<{ sessions: number; refreshTokens: number }> {
      const now = clock.now()
      const deadSessions = await sessions.deleteDead(now)
      const expiredTokens = await refreshTokens.deleteExpired(now)
      // A successor is kept only for retries within the grace window.
      await refreshTokens.clearSuccessors(new Date(now.getTime() - graceMs))
      return { sessions: deadSessions, refreshTokens: expiredTokens }
    },
  }
}

export type SessionsService = ReturnType<typeof createSessionsService>
