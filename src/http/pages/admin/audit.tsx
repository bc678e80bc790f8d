import type { FastifyPluginAsync } from 'fastify'
import { Type } from 'typebox'
import { AUDIT_EVENT_TYPES, type AuditFilter } from '../../../domain/audit.js'
import type { RouteDeps } from '../../route-config.js'
import { Field, type FieldErrors, Link, Notice, sendPage } from '../kit/layout.js'
import { AuditTable } from './audit-table.js'
import { AdminNav, QueryForm } from './controls.js'

const PAGE_SIZE = 50
const Text = Type.Optional(Type.String({ maxLength: 128 }))
// Strings, not formats: an empty filter field arrives as '', and a bad one
// deserves a sentence next to its field, not a bare 400.
const AuditPageQuery = Type.Object({
  user_id: Text,
  type: Text,
  since: Text,
  until: Text,
  cursor: Text,
})
type Filters = { user_id?: string; type?: string; since?: string; until?: string; cursor?: string }

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
// A date, or a date and time (a browser's datetime-local has no zone: read as UTC).
const WHEN = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?)?$/

function parseWhen(value: string): Date | undefined {
  if (!WHEN.test(value)) return undefined
  const zoned = /(Z|[+-]\d{2}:\d{2})$/.test(value) || value.length === 10
  const d = new Date(zoned ? value : `${value.replace(' ', 'T')}Z`)
  return Number.isNaN(d.getTime()) ? undefined : d
}

/** The filter the form asks for, or the errors of its fields. */
function toFilter(q: Filters): { filter: AuditFilter; errors: FieldErrors } {
  const errors: FieldErrors = {}
  const filter: AuditFilter = { limit: PAGE_SIZE }
  const userId = q.user_id?.trim()
  if (userId) {
    if (UUID.test(userId)) filter.userId = userId.toLowerCase()
    else errors.user_id = 'Enter a user id (a UUID), as shown on the user’s page.'
  }
  const type = q.type?.trim()
  if (type) filter.type = type
  for (const key of ['since', 'until'] as const) {
    const value = q[key]?.trim()
    if (!value) continue
    const d = parseWhen(value)
    if (d) filter[key] = d
    else errors[key] = 'Enter a date (2026-01-31) or a date and time (2026-01-31T09:30, UTC).'
  }
  if (q.cursor && /^[0-9]{1,15}$/.test(q.cursor)) filter.before = Number(q.cursor)
  return { filter, errors }
}

/** /admin/audit: the audit log, newest first, filtered, a page at a time. */
export const adminAuditPages: FastifyPluginAsync<RouteDeps> = async (app, { services }) => {
  app.get(
    '/admin/audit',
    { schema: { hide: true, querystring: AuditPageQuery } },
    async (request, reply) => {
      const q = request.query as Filters
      const { filter, errors } = toFilter(q)
      const invalid = Object.keys(errors).length > 0
      const page = invalid ? { items: [], next_cursor: null } : await services.audit.list(filter)
      const keep = Object.fromEntries(
        (['user_id', 'type', 'since', 'until'] as const)
          .map((k) => [k, q[k]?.trim() ?? ''])
          .filter(([, v]) => v !== ''),
      )
      const older =
        page.next_cursor === null
          ? undefined
          : `/admin/audit?${new URLSearchParams({ ...keep, cursor: page.next_cursor })}`
      return sendPage(
        request,
        reply,
        { title: 'Audit log', status: invalid ? 400 : 200 },
        <>
          <AdminNav current="audit" />
          {invalid && <Notice kind="error">Some filters are not valid; see below.</Notice>}
          <QueryForm action="/admin/audit" label="Filter the audit log">
            <Field
              name="user_id"
              label="User id"
              autocomplete="off"
              value={q.user_id}
              error={errors.user_id}
            />
            <div class="field">
              <label for="type">Event type</label>
              <select id="type" name="type">
                <option value="">Any</option>
                {AUDIT_EVENT_TYPES.map((t) => (
                  <option key={t} value={t} selected={t === filter.type}>
                    {t}
                  </option>
                ))}
              </select>
            </div>
            <Field
              name="since"
              label="Since (UTC)"
              autocomplete="off"
              hint="2026-01-31 or 2026-01-31T09:30; included."
              value={q.since}
              error={errors.since}
            />
            <Field
              name="until"
              label="Until (UTC)"
              autocomplete="off"
              hint="Events before this time."
              value={q.until}
              error={errors.until}
            />
            <button type="submit">Filter</button>
          </QueryForm>
          <AuditTable events={page.items} />
          <nav aria-label="Pages" class="pager">
            {q.cursor && <Link href={`/admin/audit?${new URLSearchParams(keep)}`}>Newest</Link>}
            {older && <Link href={older}>Older events</Link>}
          </nav>
        </>,
      )
    },
  )
}
