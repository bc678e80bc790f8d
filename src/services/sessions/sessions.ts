import type { Config } from '../../config.js'
import {
  type AuthContext,
  idleExpiry,
  isLive,
  type Session,
  type TokenPair,
} from '../../domain/session.js'
import type { Clock } from '../../domain/time.js'
import { KeygateError } from '../../errors.js'
import type { RefreshTokensRepo } from '../../repos/refresh-tokens.js'
import type { SessionsRepo } from '../../repos/sessions.js'
import type { UsersRepo } from '../../repos/users.js'
import { type AuthService, hashRefreshToken } from './authentication.js'

export interface SessionsServiceDeps {
  config: Pick<Config, 'refreshTokenExpireDays' | 'refreshReuseGraceSeconds'>
  clock: Clock
  auth: AuthService
  users: UsersRepo
  sessions: SessionsRepo
  refreshTokens: RefreshTokensRepo
  metrics?: { refreshReuseDetected(): void }
}

/** Refresh rotation with reuse detection, logout, the user's session list, pruning. */
export function createSessionsService(deps: SessionsServiceDeps) {
  const { config, clock, auth, users, sessions, refreshTokens } = deps
  const invalid = () => new KeygateError('INVALID_REFRESH_TOKEN')
  const graceMs = config.refreshReuseGraceSeconds * 1000

  return {
    /**
     * Rotates a refresh token (RFC 9700 §4.14.2): every use spends it and
     * returns a new pair. A spent token presented again within the grace window
     * (two tabs, a retried request) gets another fresh pair for the same
     * session, so every caller is left holding a working token. Presented after
     * the window, it is treated as stolen: the whole session is revoked, which
     * also stops its access tokens on their next request.
     */
    async refresh(presented: string): Promise<TokenPair> {
      const now = clock.now()
      const hash = hashRefreshToken(presented)
      const token = await refreshTokens.findByHash(hash)
      if (!token || token.expires_at <= now) throw invalid()
      const session = await sessions.findById(token.session_id)
      if (!session || !isLive(session, now)) throw invalid()

      const rotated = token.used_at === null && (await refreshTokens.markUsed(hash, now))
      if (!rotated) {
        // Lost the race to a concurrent rotation: that one spent it just now.
        const usedAt = token.used_at ?? (await refreshTokens.findByHash(hash))?.used_at ?? now
        // A zero grace window means no second use at all, even in the same millisecond.
        if (graceMs === 0 || now.getTime() - usedAt.getTime() > graceMs) {
          deps.metrics?.refreshReuseDetected()
          await sessions.revoke(session.id, now)
          throw invalid()
        }
      }

      const user = await users.findById(session.user_id)
      if (!user?.is_active) throw invalid()
      const idle = idleExpiry(now, config.refreshTokenExpireDays, session.max_expires_at)
      if (!(await sessions.touch(session.id, now, idle))) throw invalid()
      return auth.issuePair(user, session.id, session.client_id, session.max_expires_at)
    },

    /** Ends the caller's session, or with `all` every session of the user. */
    async logout(caller: AuthContext, all = false): Promise<void> {
      if (all) await sessions.revokeAllForUser(caller.user.id, clock.now())
      else await sessions.revoke(caller.sessionId, clock.now())
    },

    /** The caller's live sessions, the one in use marked `current`. */
    async list(caller: AuthContext): Promise<(Session & { current: boolean })[]> {
      const live = await sessions.listLive(caller.user.id, clock.now())
      return live.map((s) => ({ ...s, current: s.id === caller.sessionId }))
    },

    /** Revokes one of the caller's own sessions; someone else's is a 404, like a missing one. */
    async revoke(caller: AuthContext, sessionId: string): Promise<void> {
      if (!(await sessions.revokeForUser(sessionId, caller.user.id, clock.now()))) {
        throw new KeygateError('SESSION_NOT_FOUND')
      }
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
      return { sessions: deadSessions, refreshTokens: expiredTokens }
    },
  }
}

export type SessionsService = ReturnType<typeof createSessionsService>
