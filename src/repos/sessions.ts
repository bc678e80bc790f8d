import type { Kysely, Selectable } from 'kysely'
import type { DB, SessionsTable } from '../db/schema.js'
import { prepareQuery } from './prepared.js'
import { iso, toDate } from './row.js'
import { toUser, type User } from './users.js'

export interface Session {
  id: string
  user_id: string
  client_id: string
  created_at: Date
  last_used_at: Date
  expires_at: Date
  max_expires_at: Date
  revoked_at: Date | null
  user_agent: string | null
  ip: string | null
}

export type NewSession = Omit<Session, 'revoked_at'>

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
  }
}

export function createSessionsRepo(db: Kysely<DB>) {
  // Runs on every authenticated request, so it is compiled once.
  const liveWithUser = prepareQuery(db, ['sessionId', 'userId', 'now'] as const, (p) =>
    db
      .selectFrom('sessions')
      .innerJoin('users', 'users.id', 'sessions.user_id')
      .selectAll('users')
      .where('sessions.id', '=', p.sessionId)
      .where('sessions.user_id', '=', p.userId)
      .where('sessions.revoked_at', 'is', null)
      .where('sessions.max_expires_at', '>', p.now),
  )

  return {
    async insert(s: NewSession): Promise<void> {
      await db
        .insertInto('sessions')
        .values({
          ...s,
          created_at: iso(s.created_at),
          last_used_at: iso(s.last_used_at),
          expires_at: iso(s.expires_at),
          max_expires_at: iso(s.max_expires_at),
          revoked_at: null,
        })
        .execute()
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
     * undefined when the session is gone, revoked, past its absolute limit or not the user's.
     */
    async findLiveWithUser(
      sessionId: string,
      userId: string,
      now: Date,
    ): Promise<User | undefined> {
      const [row] = await liveWithUser({ sessionId, userId, now: iso(now) })
      return row && toUser(row)
    },

    async revoke(id: string, now: Date): Promise<boolean> {
      const r = await db
        .updateTable('sessions')
        .set({ revoked_at: iso(now) })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst()
      return r.numUpdatedRows > 0n
    },

    /** Revokes every live session of a user, except `keepId` when given. */
    async revokeAllForUser(userId: string, now: Date, keepId?: string): Promise<void> {
      let q = db
        .updateTable('sessions')
        .set({ revoked_at: iso(now) })
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
      if (keepId !== undefined) q = q.where('id', '!=', keepId)
      await q.execute()
    },
  }
}

export type SessionsRepo = ReturnType<typeof createSessionsRepo>
