import { createHash } from 'node:crypto'
import { type Kysely, type Selectable, sql } from 'kysely'
import type { AuditEventsTable, DB } from '../db/schema.js'
import type { AuditEvent, AuditFilter, NewAuditEvent } from '../domain/audit.js'
import { iso, toDate } from './support/row.js'

export function toAuditEvent(row: Selectable<AuditEventsTable>): AuditEvent {
  return {
    // PostgreSQL's bigserial arrives as a string.
    id: Number(row.id),
    created_at: toDate(row.created_at),
    type: row.type,
    user_id: row.user_id,
    actor_id: row.actor_id,
    client_id: row.client_id,
    ip: row.ip,
    user_agent: row.user_agent,
    request_id: row.request_id,
    details: JSON.parse(row.details),
    count: Number(row.count),
  }
}

const values = (e: NewAuditEvent, now: Date) => ({
  created_at: iso(now),
  type: e.type,
  user_id: e.userId ?? null,
  actor_id: e.source?.actorId ?? null,
  client_id: e.source?.clientId?.slice(0, 255) ?? null,
  ip: e.source?.ip?.slice(0, 64) ?? null,
  user_agent: e.source?.userAgent?.slice(0, 512) ?? null,
  request_id: e.source?.requestId?.slice(0, 128) ?? null,
  details: JSON.stringify(e.details ?? {}).slice(0, 2048),
})

/** The audit log: append, fold repeated failures, page newest first, prune. */
export function createAuditEventsRepo(db: Kysely<DB>) {
  return {
    async record(e: NewAuditEvent, now: Date): Promise<void> {
      await db.insertInto('audit_events').values(values(e, now)).execute()
    },

    /**
     * Adds one to the row of `foldKey` (one per key and minute), creating it on
     * the first attempt: a flood of attempts writes one row, not one each.
     */
    async recordFolded(e: NewAuditEvent, foldKey: string, now: Date): Promise<void> {
      const minute = Math.floor(now.getTime() / 60_000)
      const bucket = createHash('sha256').update(`${e.type}\n${foldKey}\n${minute}`).digest('hex')
      await db
        .insertInto('audit_events')
        .values({ ...values(e, now), bucket })
        .onConflict((oc) =>
          oc.column('bucket').doUpdateSet({ count: sql<number>`audit_events.count + 1` }),
        )
        .execute()
    },

    /** Newest first; `before` is the last id of the previous page. */
    async list(f: AuditFilter): Promise<AuditEvent[]> {
      let q = db.selectFrom('audit_events').selectAll()
      if (f.userId !== undefined) q = q.where('user_id', '=', f.userId)
      if (f.type !== undefined) q = q.where('type', '=', f.type)
      if (f.since !== undefined) q = q.where('created_at', '>=', iso(f.since))
      if (f.until !== undefined) q = q.where('created_at', '<', iso(f.until))
      if (f.before !== undefined) q = q.where('id', '<', f.before)
      const rows = await q.orderBy('id', 'desc').limit(f.limit).execute()
      return rows.map(toAuditEvent)
    },

    async deleteBefore(cutoff: Date): Promise<number> {
      const res = await db
        .deleteFrom('audit_events')
        .where('created_at', '<', iso(cutoff))
        .executeTakeFirst()
      return Number(res.numDeletedRows)
    },
  }
}

export type AuditEventsRepo = ReturnType<typeof createAuditEventsRepo>
