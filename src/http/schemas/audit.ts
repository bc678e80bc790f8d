import { Type } from 'typebox'
import type { AuditEvent, AuditFilter } from '../../domain/audit.js'
import type { AuditPage } from '../../services/audit/audit-log.js'
import { Uuid } from './common.js'

const Cursor = Type.String({
  pattern: '^[0-9]{1,15}$',
  description: '`next_cursor` of the previous page',
})
const Limit = Type.Integer({ minimum: 1, maximum: 100, default: 50 })
const When = Type.String({ format: 'date-time' })

export const SecurityEventsQuery = Type.Object({
  cursor: Type.Optional(Cursor),
  limit: Limit,
})

export const AuditQuery = Type.Object({
  user_id: Type.Optional(Uuid),
  type: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  since: Type.Optional({ ...When, description: 'events at or after this time' }),
  until: Type.Optional({ ...When, description: 'events before this time' }),
  cursor: Type.Optional(Cursor),
  limit: Limit,
})

const Nullable = (s: ReturnType<typeof Type.String>) => Type.Union([s, Type.Null()])

export const AuditEventOut = Type.Object({
  id: Type.String({ description: 'grows with every event' }),
  created_at: Type.String({ format: 'date-time' }),
  type: Type.String(),
  user_id: Nullable(Type.String()),
  actor_id: Nullable(Type.String()),
  client_id: Nullable(Type.String()),
  ip: Nullable(Type.String()),
  user_agent: Nullable(Type.String()),
  request_id: Nullable(Type.String()),
  details: Type.Record(
    Type.String(),
    Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]),
  ),
  count: Type.Integer({ description: 'attempts folded into this event (failed sign-ins)' }),
})

export const AuditPageOut = Type.Object({
  items: Type.Array(AuditEventOut),
  next_cursor: Nullable(Type.String()),
})

/** The query's filters as the service takes them. */
export function toAuditFilter(q: {
  user_id?: string
  type?: string
  since?: string
  until?: string
  cursor?: string
  limit: number
}): AuditFilter {
  return {
    userId: q.user_id,
    type: q.type,
    since: q.since === undefined ? undefined : new Date(q.since),
    until: q.until === undefined ? undefined : new Date(q.until),
    before: q.cursor === undefined ? undefined : Number(q.cursor),
    limit: q.limit,
  }
}

const toAuditEventOut = (e: AuditEvent) => ({
  id: String(e.id),
  created_at: e.created_at.toISOString(),
  type: e.type,
  user_id: e.user_id,
  actor_id: e.actor_id,
  client_id: e.client_id,
  ip: e.ip,
  user_agent: e.user_agent,
  request_id: e.request_id,
  details: e.details,
  count: e.count,
})

export const toAuditPageOut = (p: AuditPage) => ({
  items: p.items.map(toAuditEventOut),
  next_cursor: p.next_cursor,
})
