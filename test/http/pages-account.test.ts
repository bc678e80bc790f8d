import { randomUUID } from 'node:crypto'
import { describe, expect, it, onTestFinished } from 'vitest'
import { createDeps } from '../../src/deps.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { createUser, loginAs, strongPassword } from '../helpers/factories.js'
import { pageClient, signInPage } from '../helpers/pages.js'

const ORIGIN = 'http://localhost:8000'

async function setup() {
  const t = await buildTestApp({ publicUrl: ORIGIN })
  const user = await createUser(t.app)
  const client = pageClient(t.app, ORIGIN)
  await signInPage(client, user)
  return { ...t, user, client }
}

/** The repos and services on the test app's database, as the provider engineer's code sees them. */
async function depsOf(t: TestApp) {
  const deps = await createDeps(t.config, { database: t.database, clock: t.clock })
  // Its change bus holds a PostgreSQL connection (LISTEN) until closed.
  onTestFinished(() => deps.close())
  return deps
}

describe('account page', () => {
  it('sends a signed-out browser to sign in, and back', async () => {
    const { app } = await buildTestApp({ publicUrl: ORIGIN })
    const res = await app.inject({ method: 'GET', url: '/account' })
    expect(res.statusCode).toBe(303)
    expect(res.headers.location).toBe('/signin?return_to=%2Faccount')
    const post = pageClient(app, ORIGIN)
    const changed = await post.post('/account/password', {}, { from: '/signin' })
    expect(changed.headers.location).toBe('/signin?return_to=%2Faccount')
  })

  it('changes the profile; a new email needs the current password', async () => {
    const { client, user, app } = await setup()
    const email = `new-${user.email}`
    const without = await client.post(
      '/account/profile',
      { email, username: 'new_name' },
      { from: '/account' },
    )
    expect(without.statusCode).toBe(400)
    expect(without.body).toContain('Enter your current password to change your email.')
    expect(without.body).toContain(
      'aria-describedby="profile-current-password-hint profile-current-password-error"',
    )
    const wrong = await client.post(
      '/account/profile',
      { email, username: 'new_name', current_password: 'Wrong-pass-1' },
      { from: '/account' },
    )
    expect(wrong.body).toContain('The current password is incorrect.')
    const ok = await client.post(
      '/account/profile',
      { email, username: 'new_name', current_password: user.password },
      { from: '/account' },
    )
    expect(ok.statusCode).toBe(303)
    expect(ok.headers.location).toBe('/account?done=profile')
    const page = await client.get('/account?done=profile')
    expect(page.body).toContain('Your profile was saved.')
    expect(page.body).toContain(`value="${email}"`)
    await loginAs(app, { email, password: user.password })
  })

  it('changes the password: other sessions end, this browser keeps a fresh session', async () => {
    const { client, user, app } = await setup()
    const api = await loginAs(app, user)
    const before = client.jar.cookies.get('keygate_session')
    const next = strongPassword()
    const weak = await client.post(
      '/account/password',
      { current_password: user.password, new_password: 'password1' },
      { from: '/account' },
    )
    expect(weak.statusCode).toBe(400)
    expect(weak.body).toMatch(/id="new_password-error" class="error">[^<]*too common/)
    const res = await client.post(
      '/account/password',
      { current_password: user.password, new_password: next },
      { from: '/account' },
    )
    expect(res.statusCode).toBe(303)
    expect(client.jar.cookies.get('keygate_session')).not.toBe(before)
    expect((await client.get('/account')).statusCode).toBe(200)
    const me = await app.inject({ method: 'GET', url: '/api/v1/users/me', headers: api.headers })
    expect(me.statusCode).toBe(401)
    // The old cookie opens nothing any more.
    const stale = await app.inject({
      method: 'GET',
      url: '/account',
      headers: { cookie: `keygate_session=${before}` },
    })
    expect(stale.statusCode).toBe(303)
    await loginAs(app, { email: user.email, password: next })
  })

  it('lists the sessions and signs one out', async () => {
    const { client, user, app } = await setup()
    const api = await loginAs(app, user)
    const page = await client.get('/account')
    expect(page.body).toContain('This browser')
    const ids = [
      ...page.body.matchAll(/action="\/account\/sessions\/([0-9a-f-]{36})\/signout"/g),
    ].map((m) => m[1])
    expect(ids).toHaveLength(1)
    const res = await client.post(`/account/sessions/${ids[0]}/signout`, {}, { from: '/account' })
    expect(res.headers.location).toBe('/account?done=session')
    const me = await app.inject({ method: 'GET', url: '/api/v1/users/me', headers: api.headers })
    expect(me.statusCode).toBe(401)
    // Another user's session, or none: the 404 page.
    const missing = await client.post(
      `/account/sessions/${randomUUID()}/signout`,
      {},
      { from: '/account' },
    )
    expect(missing.statusCode).toBe(404)
    expect(missing.headers['content-type']).toBe('text/html; charset=utf-8')
  })
})

describe('signing out of the browser', () => {
  it('ends the browser session and every session opened from it, not the others', async () => {
    const t = await setup()
    const deps = await depsOf(t)
    try {
      const current = await deps.services.browserSessions.current(
        t.client.jar.cookies.get('keygate_session'),
      )
      expect(current?.user.id).toBe(t.user.id)
      expect(current?.session).toMatchObject({
        client_id: 'keygate',
        amr: ['pwd'],
        parent_id: null,
      })
      expect(current?.session.auth_time).toEqual(t.clock.now())
      // What the authorization endpoint will do: a child session per authorization.
      const child = randomUUID()
      const now = t.clock.now()
      await deps.repos.sessions.insert({
        id: child,
        user_id: t.user.id,
        client_id: 'some-app',
        created_at: now,
        last_used_at: now,
        expires_at: new Date(now.getTime() + 86_400_000),
        max_expires_at: new Date(now.getTime() + 86_400_000),
        user_agent: null,
        ip: null,
        scope: 'openid',
        parent_id: current!.session.id,
        auth_time: now,
        amr: ['pwd'],
      })
      const elsewhere = await loginAs(t.app, t.user)

      const res = await t.client.post('/signout', {}, { from: '/account' })
      expect(res.statusCode).toBe(303)
      expect(res.headers.location).toBe('/signed-out')
      expect(t.client.jar.lastSetCookie.join()).toMatch(
        /keygate_session=; Max-Age=0|keygate_session=;.*Expires=Thu, 01 Jan 1970/,
      )
      expect((await deps.repos.sessions.findById(current!.session.id))?.revoked_at).not.toBeNull()
      expect((await deps.repos.sessions.findById(child))?.revoked_at).not.toBeNull()
      const other = await t.app.inject({
        method: 'GET',
        url: '/api/v1/users/me',
        headers: elsewhere.headers,
      })
      expect(other.statusCode).toBe(200)
      expect((await t.client.get('/signed-out')).body).toContain('You are signed out')
      expect((await t.client.get('/account')).statusCode).toBe(303)
    } finally {
      await deps.close()
    }
  })

  it('a second person signing in on the same browser ends the first one’s session', async () => {
    const t = await setup()
    const deps = await depsOf(t)
    try {
      const first = await deps.services.browserSessions.current(
        t.client.jar.cookies.get('keygate_session'),
      )
      // The same person signing in again (prompt=login) keeps the session their apps hang
      // on, under a new cookie and a new auth_time.
      const oldCookie = t.client.jar.cookies.get('keygate_session')
      t.clock.advance(60_000)
      await signInPage(t.client, t.user)
      const again = await deps.services.browserSessions.current(
        t.client.jar.cookies.get('keygate_session'),
      )
      expect(again?.session.id).toBe(first!.session.id)
      expect(again?.session.auth_time).toEqual(t.clock.now())
      expect(await deps.services.browserSessions.current(oldCookie)).toBeNull()
      await signInPage(t.client, await createUser(t.app))
      expect((await deps.repos.sessions.findById(first!.session.id))?.revoked_at).not.toBeNull()
    } finally {
      await deps.close()
    }
  })

  it('does not open for a deactivated user or a forged cookie', async () => {
    const t = await setup()
    const deps = await depsOf(t)
    try {
      const cookie = t.client.jar.cookies.get('keygate_session')
      expect(await deps.services.browserSessions.current(cookie)).not.toBeNull()
      // One character changed (a forgery that kept the last one would be the cookie itself).
      const forged = `${cookie?.slice(0, -1)}${cookie?.endsWith('A') ? 'B' : 'A'}`
      expect(await deps.services.browserSessions.current(forged)).toBeNull()
      expect(await deps.services.browserSessions.current('short')).toBeNull()
      expect(await deps.services.browserSessions.current(undefined)).toBeNull()
      await deps.repos.users.update(t.user.id, { is_active: false }, t.clock.now())
      expect(await deps.services.browserSessions.current(cookie)).toBeNull()
    } finally {
      await deps.close()
    }
  })
})
