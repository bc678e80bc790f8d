import type { AuditEvent } from '../../../domain/audit.js'
import { Link } from '../kit/layout.js'
import { when } from './controls.js'

/** Audit events, newest first: what, about whom, by whom, from where. */
export function AuditTable(props: { events: AuditEvent[] }) {
  if (props.events.length === 0) return <p>No events.</p>
  return (
    <table class="admin audit">
      <thead>
        <tr>
          <th scope="col">Time</th>
          <th scope="col">Event</th>
          <th scope="col">User</th>
          <th scope="col">Actor</th>
          <th scope="col">Client</th>
          <th scope="col">Address</th>
          <th scope="col">Details</th>
        </tr>
      </thead>
      <tbody>
        {props.events.map((e) => (
          <tr key={e.id}>
            <td>{when(e.created_at)}</td>
            <td class="event-type">{e.type}</td>
            <td>{e.user_id ? <Link href={`/admin/users/${e.user_id}`}>{e.user_id}</Link> : '—'}</td>
            <td>
              {e.actor_id ? <Link href={`/admin/users/${e.actor_id}`}>{e.actor_id}</Link> : '—'}
            </td>
            <td>{e.client_id ?? '—'}</td>
            <td>{e.ip ?? '—'}</td>
            <td>
              {Object.entries(e.details)
                .map(([k, v]) => `${k}: ${String(v)}`)
                .join(', ')}
              {e.count > 1 ? ` (×${e.count})` : ''}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}
