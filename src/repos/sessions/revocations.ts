import { type Kysely, PostgresAdapter, type Selectable, sql } from 'kysely'
import type { DB, RevocationsTable } from '../../db/schema.js'
import { iso, toDate } from '../support/row.js'
import { atomically, type Change, type RepoEvents, silentEvents } from './changes.js'

/** One entry of the revocation feed (SPEC §11). */
export interface Revocation {
  cursor: number
  sid: string | null
  sub: string | null
  /** when the last access token it covers has expired */
  until: Date
  at: Date
  keepJti: string | null
}

/** The cursors still held: a follower behind `oldest - 1` or past `newest` must resync. */
export interface FeedBounds {
  oldest: number
  newest: number
}

const toRevocation = (row: Selectable<RevocationsTable>): Revocation => ({
  cursor: Number(row.cursor),
  sid: row.sid,
  sub: row.sub,
  until: toDate(row.until),
  at: toDate(row.at),
  keepJti: row.keep_jti,
})

// Any fixed 64-bit number; it names the lock below ("keygate" in ASCII).
const FEED_LOCK = 0x6b657967617465n

/**
 * PostgreSQL hands out cursors (a sequence) in insertion order, but commits
 * may land in another order, and a follower that read cursor 11 before 10
 * committed would never see 10. Writers of the feed therefore take turns:
 * this lock is held until the transaction ends, so cursor order is commit
 * order. Taken before the revoking UPDATE, so a writer waits before it holds
 * any session's row lock. SQLite has one writer at a time anyway.
 */
export async function lockFeed(db: Kysely<DB>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    await sql`select pg_advisory_xact_lock(${FEED_LOCK})`.execute(db)
  }
}

/** Inserts feed entries on `db` (a transaction the caller commits); see `record`. */
/** What an entry revokes: a session or a user, or a session but one access token of it. */
export type RevocationTarget = Change | { sid: string; keepJti: string }

export async function writeRevocations(
  db: Kysely<DB>,
  list: RevocationTarget[],
  now: Date,
  coverSeconds: number,
): Promise<void> {
  if (list.length === 0) return
  await lockFeed(db)
  const until = iso(new Date(now.getTime() + coverSeconds * 1000))
  await db
    .insertInto('revocations')
    .values(
      list.map((c) => ({
        sid: 'sid' in c ? c.sid : null,
        sub: 'sub' in c ? c.sub : null,
        until,
        at: iso(now),
        keep_jti: 'keepJti' in c ? c.keepJti : null,
      })),
    )
    .execute()
}

export function createRevocationsRepo(db: Kysely<DB>, events: RepoEvents = silentEvents) {
  return {
    /**
     * THE way to revoke outside the sessions repo (which calls it itself):
     * publishes each session or user in the feed, in the caller's transaction,
     * and drops them from every instance's liveness cache once committed.
     */
    async record(targets: Change | Change[], now: Date): Promise<void> {
      const list = Array.isArray(targets) ? targets : [targets]
      await atomically(db, (t) => writeRevocations(t, list, now, events.coverSeconds))
      await events.committed(list)
    },

    /** Entries after `cursor`, oldest first. */
    async after(cursor: number, limit: number): Promise<Revocation[]> {
      const rows = await db
        .selectFrom('revocations')
        .selectAll()
        .where('cursor', '>', cursor)
        .orderBy('cursor')
        .limit(limit)
        .execute()
      return rows.map(toRevocation)
    },

    async bounds(): Promise<FeedBounds | undefined> {
      const row = await db
        .selectFrom('revocations')
        .select((eb) => [eb.fn.min('cursor').as('oldest'), eb.fn.max('cursor').as('newest')])
        .executeTakeFirst()
      if (row?.oldest == null || row.newest == null) return undefined
      return { oldest: Number(row.oldest), newest: Number(row.newest) }
    },

    /**
     * Deletes entries whose tokens have all expired, except the newest one:
     * it keeps the head of the feed known, so a cursor from another database
     * (ahead of it) is recognised.
     */
    async deleteExpired(now: Date): Promise<number> {
      const r = await db
        .deleteFrom('revocations')
        .where('until', '<=', iso(now))
        .where('cursor', '<', (eb) =>
          eb.selectFrom('revocations').select(eb.fn.max('cursor').as('m')),
        )
        .executeTakeFirst()
      return Number(r.numDeletedRows)
    },
  }
}

export type RevocationsRepo = ReturnType<typeof createRevocationsRepo>
