import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import type { AuditEvent } from '../../../domain/audit.js'
import type { Session } from '../../../domain/session.js'
import type { User } from '../../../domain/user.js'
import type { RouteDeps } from '../../route-config.js'
import { attempt } from '../kit/form-errors.js'
import { Form, Link, Notice, sendPage } from '../kit/layout.js'
import { redirectAfterPost } from '../kit/redirects.js'
import { adminSource } from './admin-session.js'
import { AuditTable } from './audit-table.js'
import { AdminNav, QueryForm, when } from './controls.js'

const PAGE_SIZE = 20
const UsersQuery = Type.Object({
  q: Type.Optional(Type.String({ maxLength: 256 })),
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
})
const UserParams = Type.Object({ id: Type.String({ format: 'uuid' }) })
const DoneQuery = Type.Object({ done: Type.Optional(Type.String({ maxLength: 64 })) })
const ActionBody = Type.Object({ csrf_token: Type.Optional(Type.String({ maxLength: 512 })) })

// What a finished action says on the user's page (Post/Redirect/Get).
const DONE: Record<string, string> = {
  deactivated: 'The user was deactivated and signed out everywhere.',
  reactivated: 'The user was reactivated.',
  sessions: 'Every session of the user was signed out.',
  factors: 'The user’s second factors were removed; they were told by mail.',
  reset: 'A password reset link is on its way, if mail is set up and none was sent a minute ago.',
}

function UserList(props: { q: string; page: number; items: User[]; total: number }) {
  const pages = Math.max(1, Math.ceil(props.total / PAGE_SIZE))
  const at = (page: number) =>
    `/admin/users?${new URLSearchParams({ ...(props.q ? { q: props.q } : {}), page: String(page) })}`
  return (
    <>
      <AdminNav current="users" />
      <QueryForm action="/admin/users" label="Search users">
        <div class="field">
          <label for="q">Email or username contains</label>
          <input id="q" name="q" type="search" value={props.q} maxLength={256} />
        </div>
        <button type="submit">Search</button>
      </QueryForm>
      <p class="muted" role="status">
        {props.total} {props.total === 1 ? 'user' : 'users'} · page {props.page} of {pages}
      </p>
      <table class="admin">
        <thead>
          <tr>
            <th scope="col">Email</th>
            <th scope="col">Username</th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {props.items.map((u) => (
            <tr key={u.id}>
              <td>
                <Link href={`/admin/users/${u.id}`}>{u.email}</Link>
              </td>
              <td>{u.username ?? '—'}</td>
              <td>
                {u.is_active ? 'active' : 'deactivated'}
                {u.is_superuser ? ', superuser' : ''}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <nav aria-label="Pages" class="pager">
        {props.page > 1 && <Link href={at(props.page - 1)}>Previous page</Link>}
        {props.page < pages && <Link href={at(props.page + 1)}>Next page</Link>}
      </nav>
    </>
  )
}

interface UserView {
  user: User
  sessions: Session[]
  factors: { totp: boolean; recovery_codes_left: number; passkeys: unknown[] }
  events: AuditEvent[]
  done?: string
  error?: string
}

function Action(props: { user: User; action: string; label: string; secondary?: boolean }) {
  return (
    <Form action={`/admin/users/${props.user.id}/${props.action}`} label={props.label}>
      <button type="submit" class={props.secondary ? 'secondary' : undefined}>
        {props.label}
      </button>
    </Form>
  )
}

function UserDetail(props: UserView) {
  const { user } = props
  return (
    <>
      <AdminNav current="users" />
      {props.done && <Notice kind="info">{props.done}</Notice>}
      {props.error && <Notice kind="error">{props.error}</Notice>}
      <dl class="details">
        <dt>Email</dt>
        <dd>
          {user.email} {user.email_verified ? '(verified)' : '(not verified)'}
        </dd>
        <dt>Username</dt>
        <dd>{user.username ?? '—'}</dd>
        <dt>Status</dt>
        <dd id="status">
          {user.is_active ? 'Active' : 'Deactivated'}
          {user.is_superuser ? ', superuser' : ''}
        </dd>
        <dt>Created</dt>
        <dd>{when(user.created_at)}</dd>
        <dt>Id</dt>
        <dd>
          <code>{user.id}</code>
        </dd>
      </dl>
      <div class="actions">
        {user.is_active ? (
          <Action user={user} action="deactivate" label="Deactivate" />
        ) : (
          <Action user={user} action="reactivate" label="Reactivate" />
        )}
        <Action user={user} action="send-reset-link" label="Send a password reset link" secondary />
      </div>

      <h2 id="sessions">Sessions</h2>
      {props.sessions.length === 0 ? (
        <p>No live sessions.</p>
      ) : (
        <ul class="sessions">
          {props.sessions.map((s) => (
            <li key={s.id}>
              <strong>{s.client_id}</strong>
              <br />
              <span class="muted">
                {s.user_agent ?? 'Unknown device'} · {s.ip ?? 'unknown address'} · signed in{' '}
                {when(s.created_at)} · last used {when(s.last_used_at)}
              </span>
            </li>
          ))}
        </ul>
      )}
      <Action user={user} action="revoke-sessions" label="Sign out all sessions" secondary />

      <h2 id="factors">Second factors</h2>
      <p>
        Authenticator app: {props.factors.totp ? 'on' : 'off'} · recovery codes left:{' '}
        {props.factors.recovery_codes_left} · passkeys: {props.factors.passkeys.length}
      </p>
      <Action user={user} action="reset-factors" label="Reset second factors" secondary />

      <h2 id="events">Recent audit events</h2>
      <AuditTable events={props.events} />
      <p>
        <Link href={`/admin/audit?${new URLSearchParams({ user_id: user.id })}`}>
          All events of this user
        </Link>
      </p>
    </>
  )
}

/** /admin/users: find users, see one, and act on them as the signed-in superuser. */
export const adminUserPages: FastifyPluginAsync<RouteDeps> = async (app, { services }) => {
  const { admin } = services

  async function show(
    request: FastifyRequest,
    reply: FastifyReply,
    id: string,
    view: { done?: string; error?: string } = {},
    status = 200,
  ) {
    const user = await admin.get(id)
    // Another user's sessions, through the same listing the account page uses.
    const caller = { user, sessionId: '', scope: [] }
    const [sessions, factors, events] = await Promise.all([
      services.sessions.list(caller),
      services.factors.status(user),
      services.audit.list({ userId: user.id, limit: 20 }),
    ])
    return sendPage(
      request,
      reply,
      { title: user.email, status },
      <UserDetail
        user={user}
        sessions={sessions}
        factors={factors}
        events={events.items}
        {...view}
      />,
    )
  }

  app.get(
    '/admin/users',
    { schema: { hide: true, querystring: UsersQuery } },
    async (request, reply) => {
      const { q = '', page = 1 } = request.query as { q?: string; page?: number }
      const query = q.trim()
      const offset = (page - 1) * PAGE_SIZE
      const found = query
        ? await admin.search(query, PAGE_SIZE, offset)
        : await admin.list(PAGE_SIZE, offset)
      return sendPage(
        request,
        reply,
        { title: 'Users' },
        <UserList q={query} page={page} items={found.items} total={found.total} />,
      )
    },
  )

  app.get(
    '/admin/users/:id',
    { schema: { hide: true, params: UserParams, querystring: DoneQuery } },
    async (request, reply) => {
      const { id } = request.params as { id: string }
      const { done } = request.query as { done?: string }
      return show(request, reply, id, { done: done === undefined ? undefined : DONE[done] })
    },
  )

  /** A POST that acts on the user, then shows the user's page with what happened. */
  function action(
    path: string,
    done: string,
    work: (user: User, request: FastifyRequest) => Promise<unknown>,
  ) {
    app.post(
      `/admin/users/:id/${path}`,
      { schema: { hide: true, params: UserParams, body: ActionBody } },
      async (request, reply) => {
        const { id } = request.params as { id: string }
        const user = await admin.get(id)
        const { errors } = await attempt(work(user, request), {
          LAST_SUPERUSER: ['', 'This would leave no active superuser, so it was not done.'],
        })
        if (errors) return show(request, reply, id, { error: errors[''] }, 409)
        return redirectAfterPost(request, reply, `/admin/users/${id}?done=${done}`)
      },
    )
  }

  action('deactivate', 'deactivated', (user, request) =>
    admin.update(user.id, { is_active: false }, adminSource(request)),
  )
  action('reactivate', 'reactivated', (user, request) =>
    admin.update(user.id, { is_active: true }, adminSource(request)),
  )
  action('revoke-sessions', 'sessions', (user, request) =>
    admin.revokeSessions(user.id, adminSource(request)),
  )
  action('reset-factors', 'factors', (user, request) =>
    services.factors.reset(user, request.log, adminSource(request)),
  )
  action('send-reset-link', 'reset', async (user, request) =>
    services.passwordReset.request(user.email, request.log, adminSource(request)),
  )
}
