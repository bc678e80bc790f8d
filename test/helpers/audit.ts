import type { Database } from '../../src/db/database.js'
import type { AuditEvent } from '../../src/domain/audit.js'
import { toAuditEvent } from '../../src/repos/audit-events.js'

/** Every stored audit row, every column, oldest first. */
export const auditRows = (database: Database) =>
  database.db.selectFrom('audit_events').selectAll().orderBy('id').execute()

/**
 * Reads the audit log as it grows: each `next()` returns the events written
 * since the previous call, oldest first.
 */
export function auditTail(database: Database) {
  let last = 0
  return {
    async next(): Promise<AuditEvent[]> {
      const events = (await auditRows(database)).map(toAuditEvent).filter((e) => e.id > last)
      last = events.at(-1)?.id ?? last
      return events
    },
    /** skips what is there now */
    async skip(): Promise<void> {
      await this.next()
    },
  }
}
