import type { ComponentChildren } from 'preact'
import { Link, usePage } from '../layout.js'

// What every admin page shares: the console's navigation, GET forms, times.

/** The console's own navigation, on every admin page. */
export function AdminNav(props: { current: 'users' | 'clients' | 'audit' }) {
  const items = [
    ['users', '/admin/users', 'Users'],
    ['clients', '/admin/clients', 'Clients'],
    ['audit', '/admin/audit', 'Audit log'],
  ] as const
  return (
    <nav aria-label="Admin console" class="admin-nav">
      {items.map(([key, href, label]) =>
        key === props.current ? (
          <strong key={key} aria-current="page">
            {label}
          </strong>
        ) : (
          <Link key={key} href={href}>
            {label}
          </Link>
        ),
      )}
    </nav>
  )
}

/** A GET form (search, filters): nothing changes, so no CSRF token. */
export function QueryForm(props: { action: string; label: string; children: ComponentChildren }) {
  const { base } = usePage()
  return (
    <form method="get" action={`${base}${props.action}`} aria-label={props.label} class="filters">
      {props.children}
    </form>
  )
}

/** ISO time to the minute, UTC. */
export const when = (d: Date | null | undefined): string =>
  d ? `${d.toISOString().replace('T', ' ').slice(0, 16)} UTC` : '—'
