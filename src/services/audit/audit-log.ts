import type { Config } from '../../config.js'
import type { AuditEvent, AuditFilter } from '../../domain/audit.js'
import { type Clock, DAY_MS } from '../../domain/time.js'
import type { AuditEventsRepo } from '../../repos/audit-events.js'

export interface AuditPage {
  items: AuditEvent[]
  /** pass back as `cursor` for the next (older) page; null on the last page */
  next_cursor: string | null
}

export interface AuditLogDeps {
  config: Pick<Config, 'auditRetentionDays'>
  clock: Clock
  audit: AuditEventsRepo
}

/**
 * Reading and pruning the audit log. Events are written by the services that
 * make the change, through `TxRepos.audit.record` in their own transaction.
 */
export function createAuditLogService(deps: AuditLogDeps) {
  const { config, clock, audit } = deps

  /**
   * Newest first. The cursor is the last id of the page: ids only grow, so
   * events written between two requests land before the first page, never
   * inside the ones being walked.
   */
  async function page(filter: AuditFilter): Promise<AuditPage> {
    // One more than asked tells whether an older page exists.
    const rows = await audit.list({ ...filter, limit: filter.limit + 1 })
    const items = rows.slice(0, filter.limit)
    const last = items.at(-1)
    return { items, next_cursor: rows.length > filter.limit && last ? String(last.id) : null }
  }

  return {
    list: page,

    /** The user's own events (SPEC §10 security events). */
    listForUser: (userId: string, filter: Omit<AuditFilter, 'userId'>) =>
      page({ ...filter, userId }),

    /** Deletes events older than AUDIT_RETENTION_DAYS. */
    async prune(): Promise<{ auditEvents: number }> {
      const cutoff = new Date(clock.now().getTime() - config.auditRetentionDays * DAY_MS)
      return { auditEvents: await audit.deleteBefore(cutoff) }
    },
  }
}
