import { describe, expect, it } from 'vitest'
import { createDeps } from '../../src/deps.js'
import type { AuditEvent } from '../../src/domain/audit.js'
import { toAuditEvent } from '../../src/repos/audit-events.js'
import { ADMIN, buildAdminApp, issueResetLink, tokenOf } from '../helpers/accounts.js'
import { auditRows, auditTail } from '../helpers/audit.js'
import { form, randomEmail, strongPassword, type Tokens } from '../helpers/factories.js'
import { must } from '../helpers/must.js'

const IP = '198.51.100.7'
const UA = 'audit-test/1.0'

/** One event as stored: every field, so a test states exactly what it expects. */
const event = (fields: Partial<AuditEvent> & { type: string }, requestId: string | null) => ({
  id: expect.any(Number),
  created_at: expect.any(Date),
  user_id: null,
  actor_id: null,
  client_id: null,
  ip: IP,
  user_agent: UA,
  request_id: requestId,
  details: {},
  count: 1,
  ...fields,
})

async function setup() {
  const t = await buildAdminApp()
  const tail = auditTail(t.database)
  await tail.skip()
  let n = 0
  /** A request from IP with UA and a fresh request id; returns the response and that id. */
  const call = async (
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    opts: {
      payload?: unknown
      headers?: Record<string, string>
      form?: Record<string, string>
    } = {},
  ) => {
    const requestId = `req-${++n}`
    const encoded = opts.form ? form(opts.form) : undefined
    const res = await t.app.inject({
      method,
      url,
      remoteAddress: IP,
      payload: (encoded?.payload ?? opts.payload) as string,
      headers: {
        'user-agent': UA,
        'x-request-id': requestId,
        ...encoded?.headers,
        ...opts.headers,
      },
    })
    return { res, requestId }
  }
  const signUp = async () => {
    const user = { email: randomEmail(), password: strongPassword() }
    const { res, requestId } = await call('POST', '/api/v1/auth/signup', { payload: user })
    expect(res.statusCode, res.body).toBe(201)
    return { ...user, id: res.json().id as string, requestId }
  }
  const signIn = async (user: { email: string; password: string }, clientId = 'audit-app') => {
    const { res, requestId } = await call('POST', '/api/v1/auth/token', {
      form: { username: user.email, password: user.password, client_id: clientId },
    })
    expect(res.statusCode, res.body).toBe(200)
    const tokens = res.json() as Tokens
    return { tokens, headers: { authorization: `Bearer ${tokens.access_token}` }, requestId }
  }
  return { ...t, tail, call, signUp, signIn }
}

describe('audit events', () => {
  it('records signup, sign-in, refresh, reuse, logout and revocations field by field', async () => {
    const { call, signUp, signIn, tail, clock } = await setup()
    const user = await signUp()
    expect(await tail.next()).toEqual([
      event(
        { type: 'user_created', user_id: user.id, details: { via: 'signup', is_superuser: false } },
        user.requestId,
      ),
    ])

    const a = await signIn(user)
    const sessionA = must(JSON.parse(atob(a.tokens.access_token.split('.')[1] ?? '')).sid)
    expect(await tail.next()).toEqual([
      event({ type: 'sign_in_succeeded', user_id: user.id, client_id: 'audit-app' }, a.requestId),
    ])

    const refreshed = await call('POST', '/api/v1/auth/refresh', {
      payload: { refresh_token: a.tokens.refresh_token },
    })
    expect(refreshed.res.statusCode).toBe(200)
    expect(await tail.next()).toEqual([
      event(
        {
          type: 'token_refreshed',
          user_id: user.id,
          client_id: 'audit-app',
          details: { session_id: sessionA },
        },
        refreshed.requestId,
      ),
    ])

    // The spent token again, past the grace window: theft, the session dies.
    clock.advanceSeconds(60)
    const reused = await call('POST', '/api/v1/auth/refresh', {
      payload: { refresh_token: a.tokens.refresh_token },
    })
    expect(reused.res.statusCode).toBe(401)
    expect(await tail.next()).toEqual([
      event(
        {
          type: 'refresh_reuse_detected',
          user_id: user.id,
          client_id: 'audit-app',
          details: { session_id: sessionA },
        },
        reused.requestId,
      ),
    ])

    const b = await signIn(user)
    const c = await signIn(user)
    const d = await signIn(user)
    await tail.skip()
    const sessionC = JSON.parse(atob(c.tokens.access_token.split('.')[1] ?? '')).sid
    const revoked = await call('DELETE', `/api/v1/users/me/sessions/${sessionC}`, {
      headers: b.headers,
    })
    expect(revoked.res.statusCode).toBe(204)
    expect(await tail.next()).toEqual([
      event(
        {
          type: 'session_revoked',
          user_id: user.id,
          actor_id: user.id,
          details: { session_id: sessionC, via: 'user' },
        },
        revoked.requestId,
      ),
    ])

    // RFC 7009 revocation by the token's holder, no bearer: no actor.
    const sessionD = JSON.parse(atob(d.tokens.access_token.split('.')[1] ?? '')).sid
    const byToken = await call('POST', '/api/v1/auth/revoke', {
      form: { token: d.tokens.refresh_token },
    })
    expect(byToken.res.statusCode).toBe(200)
    expect(await tail.next()).toEqual([
      event(
        {
          type: 'session_revoked',
          user_id: user.id,
          details: { session_id: sessionD, via: 'token_revocation' },
        },
        byToken.requestId,
      ),
    ])

    const sessionB = JSON.parse(atob(b.tokens.access_token.split('.')[1] ?? '')).sid
    const out = await call('POST', '/api/v1/auth/logout', { headers: b.headers, payload: {} })
    expect(out.res.statusCode).toBe(204)
    expect(await tail.next()).toEqual([
      event(
        {
          type: 'logged_out',
          user_id: user.id,
          actor_id: user.id,
          details: { all: false, session_id: sessionB },
        },
        out.requestId,
      ),
    ])
    const e = await signIn(user)
    await tail.skip()
    const all = await call('POST', '/api/v1/auth/logout', {
      headers: e.headers,
      payload: { all: true },
    })
    expect(all.res.statusCode).toBe(204)
    const sessionE = JSON.parse(atob(e.tokens.access_token.split('.')[1] ?? '')).sid
    expect(await tail.next()).toEqual([
      event(
        {
          type: 'logged_out',
          user_id: user.id,
          actor_id: user.id,
          details: { all: true, session_id: sessionE },
        },
        all.requestId,
      ),
    ])
  })

  it('records password and profile changes, resets and self-deletion', async () => {
    const t = await setup()
    const { call, signUp, signIn, tail } = t
    const user = await signUp()
    let session = await signIn(user)
    await tail.skip()

    const email = randomEmail()
    const profile = await call('PATCH', '/api/v1/users/me', {
      headers: session.headers,
      payload: { email, username: 'renamed', current_password: user.password },
    })
    expect(profile.res.statusCode, profile.res.body).toBe(200)
    const self = { user_id: user.id, actor_id: user.id }
    expect(await tail.next()).toEqual([
      event({ type: 'email_changed', ...self }, profile.requestId),
      event(
        { type: 'profile_updated', ...self, details: { username: 'renamed' } },
        profile.requestId,
      ),
    ])

    const next = strongPassword()
    const changed = await call('POST', '/api/v1/users/me/password', {
      headers: session.headers,
      payload: { current_password: user.password, new_password: next },
    })
    expect(changed.res.statusCode, changed.res.body).toBe(204)
    expect(await tail.next()).toEqual([
      event({ type: 'password_changed', ...self }, changed.requestId),
    ])

    // `keygate reset-link` (no request: no client fields), then the link used over HTTP.
    const link = must(await issueResetLink(t, email))
    expect(await tail.next()).toEqual([
      {
        ...event(
          { type: 'password_reset_requested', user_id: user.id, details: { via: 'cli' } },
          null,
        ),
        ip: null,
        user_agent: null,
      },
    ])
    const reset = strongPassword()
    const confirmed = await call('POST', '/api/v1/auth/password-reset/confirm', {
      payload: { token: tokenOf(link), new_password: reset },
    })
    expect(confirmed.res.statusCode, confirmed.res.body).toBe(204)
    expect(await tail.next()).toEqual([
      event({ type: 'password_reset_completed', user_id: user.id }, confirmed.requestId),
    ])

    session = await signIn({ email, password: reset })
    await tail.skip()
    const deleted = await call('DELETE', '/api/v1/users/me', {
      headers: session.headers,
      payload: { password: reset },
    })
    expect(deleted.res.statusCode, deleted.res.body).toBe(204)
    expect(await tail.next()).toEqual([
      event({ type: 'user_deleted', ...self, details: { via: 'self' } }, deleted.requestId),
    ])
  })

  it('records every admin action with the acting admin as actor', async () => {
    const { call, signUp, signIn, tail, admin } = await setup()
    const user = await signUp()
    await tail.skip()
    const by = { user_id: user.id, actor_id: admin.id }
    const patch = async (payload: object) => {
      const r = await call('PATCH', `/api/v1/users/${user.id}`, { headers: admin.headers, payload })
      expect(r.res.statusCode, r.res.body).toBe(200)
      return r.requestId
    }

    let id = await patch({ is_active: false })
    expect(await tail.next()).toEqual([event({ type: 'user_deactivated', ...by }, id)])

    // The right password of a deactivated account.
    const inactive = await call('POST', '/api/v1/auth/token', {
      form: { username: user.email, password: user.password, client_id: 'audit-app' },
    })
    expect(inactive.res.statusCode).toBe(403)
    expect(await tail.next()).toEqual([
      event(
        {
          type: 'sign_in_failed',
          user_id: user.id,
          client_id: 'audit-app',
          details: { reason: 'inactive' },
        },
        inactive.requestId,
      ),
    ])

    id = await patch({ is_active: true, is_superuser: true })
    expect(await tail.next()).toEqual([
      event({ type: 'user_reactivated', ...by }, id),
      event({ type: 'user_promoted', ...by }, id),
    ])
    id = await patch({ is_superuser: false })
    expect(await tail.next()).toEqual([event({ type: 'user_demoted', ...by }, id)])

    await signIn(user)
    await tail.skip()
    const out = await call('DELETE', `/api/v1/users/${user.id}/sessions`, {
      headers: admin.headers,
    })
    expect(out.res.statusCode).toBe(204)
    expect(await tail.next()).toEqual([
      event({ type: 'sessions_revoked_by_admin', ...by }, out.requestId),
    ])

    const del = await call('DELETE', `/api/v1/users/${user.id}`, { headers: admin.headers })
    expect(del.res.statusCode).toBe(204)
    expect(await tail.next()).toEqual([
      event({ type: 'user_deleted', ...by, details: { via: 'admin' } }, del.requestId),
    ])
    // The event outlives the account it is about.
    const log = await call('GET', `/api/v1/audit?user_id=${user.id}`, { headers: admin.headers })
    expect(log.res.json().items.map((e: { type: string }) => e.type)[0]).toBe('user_deleted')
  })

  it('records accounts made without a request: first superuser, create-user, import', async () => {
    const t = await buildAdminApp()
    const [first] = (await auditRows(t.database)).map(toAuditEvent)
    const noRequest = { ip: null, user_agent: null }
    expect(first).toEqual({
      ...event(
        {
          type: 'user_created',
          user_id: t.admin.id,
          details: { via: 'first_superuser', is_superuser: true },
        },
        null,
      ),
      ...noRequest,
    })
    const tail = auditTail(t.database)
    await tail.skip()
    const deps = await createDeps(t.config, { database: t.database, clock: t.clock })
    try {
      // What `keygate create-user --superuser` and `keygate import-users` call.
      const made = await deps.services.users.signup(
        { email: randomEmail(), password: strongPassword() },
        { is_superuser: true },
      )
      const rows = (async function* () {
        for (let line = 1; line <= 3; line++)
          yield {
            line,
            fields: { email: randomEmail(), hashed_password: `$2b$04$${'a'.repeat(53)}` },
          }
        yield {
          line: 4,
          fields: { email: made.email, hashed_password: `$2b$04$${'a'.repeat(53)}` },
        }
      })()
      expect((await deps.services.importUsers.run(rows)).imported).toBe(3)
      expect(await tail.next()).toEqual([
        {
          ...event(
            { type: 'user_created', user_id: made.id, details: { via: 'cli', is_superuser: true } },
            null,
          ),
          ...noRequest,
        },
        {
          ...event(
            { type: 'users_imported', details: { rows: 4, imported: 3, skipped: 1, invalid: 0 } },
            null,
          ),
          ...noRequest,
        },
      ])
    } finally {
      await deps.close()
    }
  })

  it('takes the address from X-Forwarded-For only when TRUST_PROXY trusts the peer', async () => {
    for (const trustProxy of [undefined, ['127.0.0.1']]) {
      const t = await buildAdminApp({ trustProxy })
      const tail = auditTail(t.database)
      await tail.skip()
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/token',
        remoteAddress: '127.0.0.1',
        payload: form({ username: ADMIN.email, password: ADMIN.password }).payload,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-forwarded-for': '203.0.113.9',
        },
      })
      expect(res.statusCode).toBe(200)
      const [signedIn] = await tail.next()
      expect(signedIn?.ip).toBe(trustProxy ? '203.0.113.9' : '127.0.0.1')
    }
  })
})
