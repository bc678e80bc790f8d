import {
  type ExpressionBuilder,
  type Kysely,
  type Selectable,
  sql,
  type UpdateQueryBuilder,
  type UpdateResult,
} from 'kysely'
import type { DB, SessionsTable } from '../../db/schema.js'
import type { NewSession, Session } from '../../domain/session.js'
import type { User } from '../../domain/user.js'
import { toUser } from '../accounts/users.js'
import { prepareQuery } from '../support/prepared.js'
import { iso, toDate } from '../support/row.js'
import { atomically, type RepoEvents, silentEvents } from './changes.js'
import { lockFeed, writeRevocations } from './revocations.js'

export function toSession(row: Selectable<SessionsTable>): Session {
  return {
    id: row.id,
    user_id: row.user_id,
    client_id: row.client_id,
    created_at: toDate(row.created_at),
    last_used_at: toDate(row.last_used_at),
    expires_at: toDate(row.expires_at),
    max_expires_at: toDate(row.max_expires_at),
    revoked_at: row.revoked_at === null ? null : toDate(row.revoked_at),
    user_agent: row.user_agent,
    ip: row.ip,
    scope: row.scope,
    parent_id: row.parent_id,
    auth_time: row.auth_time === null ? null : toDate(row.auth_time),
    // Sessions from before the column were password sign-ins.
    amr: row.amr ? row.amr.split(' ') : ['pwd'],
  }
}

/** The session itself and every session opened from it (its children, SPEC §7). */
const selfAndChildren = (id: string) => (eb: ExpressionBuilder<DB, 'sessions'>) =>
  eb.or([eb('id', '=', id), eb('parent_id', '=', id)])

/** What the bearer guard needs to know of a session, to decide (and cache) its liveness. */
export interface SessionLiveness {
  user: User
  maxExpiresAt: Date
  pinnedJti: string | null
}

/**
 * Revoking sessions publishes each in the revocation feed, in the same
 * transaction (SPEC §11), and tells `events` once committed.
 */
export function createSessionsRepo(db: Kysely<DB>, events: RepoEvents = silentEvents) {
  async function revokeWhere(
    now: Date,
    narrow: (q: UpdateQueryBuilder<DB, 'sessions', 'sessions', UpdateResult>) => typeof q,
  ): Promise<number> {
    const ids = await atomically(db, async (t) => {
      await lockFeed(t)
      const rows = await narrow(
        t
          .updateTable('sessions')
          .set({ revoked_at: iso(now) })
          .where('revoked_at', 'is', null),
      )
        .returning('id')
        .execute()
      const revoked = rows.map((r) => ({ sid: r.id }))
      await writeRevocations(t, revoked, now, events.coverSeconds)
      return revoked
    })
    if (ids.length > 0) await events.committed(ids)
    return ids.length
  }

  const unrevoked = prepareQuery(db, ['sessionId'] as const, (p) =>
    db
      .selectFrom('sessions')
      .innerJoin('users', 'users.id', 'sessions.user_id')
      .selectAll('users')
      .select(['sessions.max_expires_at as session_max_expires_at', 'sessions.pinned_jti'])
      .where('sessions.id', '=', p.sessionId)
      .where('sessions.revoked_at', 'is', null),
  )

  // Runs on every authenticated request, so it is compiled once.
  const liveWithUser = prepareQuery(db, ['sessionId', 'userId', 'now', 'jti'] as const, (p) =>
    db
      .selectFrom('sessions')
      .innerJoin('users', 'users.id', 'sessions.user_id')
      .selectAll('users')
      .where('sessions.id', '=', p.sessionId)
      .where('sessions.user_id', '=', p.userId)
      .where('sessions.revoked_at', 'is', null)
      .where('sessions.max_expires_at', '>', p.now)
      .where((eb) =>
        eb.or([eb('sessions.pinned_jti', 'is', null), eb('sessions.pinned_jti', '=', p.jti)]),
      ),
  )

  return {
    /** A new session; `cookieHash` makes it a browser session (services/sessions/browser-sessions.ts). */
    async insert(s: NewSession, cookieHash: string | null = null): Promise<void> {
      await db
        .insertInto('sessions')
        .values({
          id: s.id,
          user_id: s.user_id,
          client_id: s.client_id,
          created_at: iso(s.created_at),
          last_used_at: iso(s.last_used_at),
          expires_at: iso(s.expires_at),
          max_expires_at: iso(s.max_expires_at),
          revoked_at: null,
          user_agent: s.user_agent,
          ip: s.ip,
          pinned_jti: null,
          scope: s.scope,
          cookie_hash: cookieHash,
          parent_id: s.parent_id ?? null,
          auth_time: s.auth_time ? iso(s.auth_time) : null,
          amr: s.amr && s.amr.length > 0 ? s.amr.join(' ') : null,
        })
        .execute()
    },

    /**
     * A browser session signed in to again by the same person: a new cookie
     * (the old value stops working), a new auth_time and amr, same id, so the
     * sessions opened from it stay attached. False when it ended meanwhile.
     */
    async reauthenticate(
      id: string,
      cookieHash: string,
      at: { now: Date; expiresAt: Date; amr: string[] },
    ): Promise<boolean> {
      const r = await db
        .updateTable('sessions')
        .set({
          cookie_hash: cookieHash,
          auth_time: iso(at.now),
          amr: at.amr.join(' '),
          last_used_at: iso(at.now),
          expires_at: iso(at.expiresAt),
        })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst()
      return r.numUpdatedRows > 0n
    },

    /** The live browser session with this cookie hash and its user (active or not). */
    async findLiveByCookie(
      cookieHash: string,
      now: Date,
    ): Promise<{ session: Session; user: User } | undefined> {
      const row = await db
        .selectFrom('sessions')
        .selectAll()
        .where('cookie_hash', '=', cookieHash)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', iso(now))
        .where('max_expires_at', '>', iso(now))
        .executeTakeFirst()
      if (!row) return undefined
      const user = await db
        .selectFrom('users')
        .selectAll()
        .where('id', '=', row.user_id)
        .executeTakeFirst()
      return user && { session: toSession(row), user: toUser(user) }
    },

    async findById(id: string): Promise<Session | undefined> {
      const row = await db
        .selectFrom('sessions')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst()
      return row && toSession(row)
    },

    /**
     * The bearer guard's one read: the session and its user together, or
     * undefined when the session is gone, revoked, past its absolute limit or not the user's,
     * or pinned to another access token (`jti`) by a password change.
     */
    async findLiveWithUser(
      sessionId: string,
      userId: string,
      now: Date,
      jti = '',
    ): Promise<User | undefined> {
      const [row] = await liveWithUser({ sessionId, userId, now: iso(now), jti })
      return row && toUser(row)
    },

    /**
     * Leaves a live session to one access token: its refresh tokens are
     * deleted, only `jti` is accepted from now on, and the session ends when
     * that token does (`until`).
     */
    /**
     * The session's user, absolute limit and pinned token when it is not
     * revoked: the guard checks the rest itself, so the answer can be cached.
     */
    async findUnrevoked(sessionId: string): Promise<SessionLiveness | undefined> {
      const [row] = await unrevoked({ sessionId })
      if (!row) return undefined
      const { session_max_expires_at, pinned_jti, ...user } = row
      return {
        user: toUser(user),
        maxExpiresAt: toDate(session_max_expires_at),
        pinnedJti: pinned_jti,
      }
    },

    async pinToToken(id: string, jti: string, until: Date, now: Date): Promise<void> {
      const end = iso(until)
      await atomically(db, async (t) => {
        await lockFeed(t)
        await t.deleteFrom('refresh_tokens').where('session_id', '=', id).execute()
        const pinned = await t
          .updateTable('sessions')
          .set({
            pinned_jti: jti,
            // The earlier of the two, portably (SQLite has no LEAST, PostgreSQL's MIN is an aggregate).
            expires_at: sql<string>`case when expires_at > ${end} then ${end} else expires_at end`,
            max_expires_at: sql<string>`case when max_expires_at > ${end} then ${end} else max_expires_at end`,
          })
          .where('id', '=', id)
          .where('revoked_at', 'is', null)
          .executeTakeFirst()
        // Downstream too, every other access token of the session stops.
        if (pinned.numUpdatedRows > 0n) {
          await writeRevocations(t, [{ sid: id, keepJti: jti }], now, events.coverSeconds)
        }
      })
      await events.committed([{ sid: id }])
    },

    /**
     * Ends a session and the sessions opened from it, in one statement: a
     * browser session never outlives its sign-out in the apps it signed in to.
     * True when anything was revoked.
     */
    async revoke(id: string, now: Date): Promise<boolean> {
      return (await revokeWhere(now, (q) => q.where(selfAndChildren(id)))) > 0
    },

    /** Revokes every live session of a user, except `keepId` when given. */
    async revokeAllForUser(userId: string, now: Date, keepId?: string): Promise<void> {
      await revokeWhere(now, (q) =>
        keepId === undefined
          ? q.where('user_id', '=', userId)
          : q.where('user_id', '=', userId).where('id', '!=', keepId),
      )
    },

    /** Revokes every live session issued to a client (the client is being deleted). */
    async revokeAllForClient(clientId: string, now: Date): Promise<number> {
      return revokeWhere(now, (q) => q.where('client_id', '=', clientId))
    },

    /**
     * Revokes every live session a client holds for a user (consent withdrawn):
     * their refresh families die with them, their access tokens at the bearer
     * guard's next session check, and the revocation feed tells resource
     * servers (SPEC §11). Answers how many were revoked.
     */
    async revokeForClient(userId: string, clientId: string, now: Date): Promise<number> {
      return revokeWhere(now, (q) =>
        q.where('user_id', '=', userId).where('client_id', '=', clientId),
      )
    },

    /** Records a refresh: last use and the new idle limit, unless the session was revoked. */
    async touch(id: string, now: Date, expiresAt: Date): Promise<boolean> {
      const r = await db
        .updateTable('sessions')
        .set({ last_used_at: iso(now), expires_at: iso(expiresAt) })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst()
      return r.numUpdatedRows > 0n
    },

    /** A user's sessions that are neither revoked nor expired, most recently used first. */
    async listLive(userId: string, now: Date): Promise<Session[]> {
      const rows = await db
        .selectFrom('sessions')
        .selectAll()
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', iso(now))
        .where('max_expires_at', '>', iso(now))
        .orderBy('last_used_at', 'desc')
        .orderBy('id')
        .execute()
      return rows.map(toSession)
    },

    /**
     * Revokes one live session, with the sessions opened from it, if it belongs
     * to `userId`; false when there is none such.
     */
    async revokeForUser(id: string, userId: string, now: Date): Promise<boolean> {
      const n = await revokeWhere(now, (q) =>
        q
          .where(selfAndChildren(id))
          .where('user_id', '=', userId)
          .where('expires_at', '>', iso(now)),
      )
      return n > 0
    },

    /**
     * Deletes revoked and expired sessions with their refresh tokens (explicitly,
     * not by cascade alone). `expires_at` never passes `max_expires_at`, so it covers both limits.
     */
    async deleteDead(now: Date): Promise<number> {
      const dead = (eb: ExpressionBuilder<DB, 'sessions'>) =>
        eb.or([eb('revoked_at', 'is not', null), eb('expires_at', '<=', iso(now))])
      await db
        .deleteFrom('refresh_tokens')
        .where('session_id', 'in', db.selectFrom('sessions').select('id').where(dead))
        .execute()
      const r = await db.deleteFrom('sessions').where(dead).executeTakeFirst()
      return Number(r.numDeletedRows)
    },
  }
}

export type SessionsRepo = ReturnType<typeof createSessionsRepo>
