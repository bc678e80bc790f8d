import type { ComponentChildren } from 'preact'
import { Link, usePage } from '../kit/layout.js'

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

// Controls the sign-in pages never needed (layout.tsx has the text Field):
// each labelled, its hint and error tied to it by aria-describedby.

const describedBy = (id: string, hint?: string, error?: string) =>
  [hint && `${id}-hint`, error && `${id}-error`].filter(Boolean).join(' ') || undefined

function HintAndError(props: { id: string; hint?: string; error?: string; before?: boolean }) {
  return props.before ? (
    props.hint ? (
      <p id={`${props.id}-hint`} class="hint">
        {props.hint}
      </p>
    ) : null
  ) : props.error ? (
    <p id={`${props.id}-error`} class="error">
      {props.error}
    </p>
  ) : null
}

/** A multi-line field (one URI a line). */
export function TextArea(props: {
  name: string
  label: string
  value?: string
  hint?: string
  error?: string
}) {
  const id = props.name
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <HintAndError id={id} hint={props.hint} before />
      <textarea
        id={id}
        name={props.name}
        rows={3}
        maxLength={8192}
        aria-invalid={props.error ? 'true' : undefined}
        aria-describedby={describedBy(id, props.hint, props.error)}
      >
        {props.value}
      </textarea>
      <HintAndError id={id} error={props.error} />
    </div>
  )
}

/** A group of checkboxes sharing one name (a set of values). */
export function Checkboxes(props: {
  name: string
  legend: string
  options: readonly string[]
  checked: readonly string[]
  error?: string
}) {
  return (
    <fieldset class="field" aria-describedby={props.error ? `${props.name}-error` : undefined}>
      <legend>{props.legend}</legend>
      {props.options.map((option) => (
        <label key={option} class="check">
          <input
            type="checkbox"
            name={props.name}
            value={option}
            checked={props.checked.includes(option)}
          />{' '}
          {option}
        </label>
      ))}
      <HintAndError id={props.name} error={props.error} />
    </fieldset>
  )
}

/** One yes/no checkbox. */
export function Checkbox(props: { name: string; label: string; checked: boolean; hint?: string }) {
  return (
    <div class="field">
      <label class="check">
        <input
          type="checkbox"
          name={props.name}
          value="1"
          checked={props.checked}
          aria-describedby={props.hint ? `${props.name}-hint` : undefined}
        />{' '}
        {props.label}
      </label>
      <HintAndError id={props.name} hint={props.hint} before />
    </div>
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
