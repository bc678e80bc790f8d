import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { buildAdminApp, meStatus } from '../helpers/accounts.js'
import { buildTestApp } from '../helpers/app.js'
import { createPost, createUser, loginAs } from '../helpers/factories.js'

const USERS = '/api/v1/users'

describe('admin routes: who may call them', () => {
  it('answers 403 to a normal user on every route, also for an id that does not exist', async () => {
    const { app } = await buildTestApp()
    const user = await createUser(app)
    const victim = await createUser(app)
    const { headers } = await loginAs(app, user)
    const missing = randomUUID()
    const calls = [
      { method: 'GET', url: USERS },
      { method: 'GET', url: `${USERS}/${victim.id}` },
      { method: 'GET', url: `${USERS}/${missing}` },
      { method: 'GET', url: `${USERS}/not-a-uuid` },
      { method: 'PATCH', url: `${USERS}/${victim.id}`, payload: { is_superuser: true } },
      { method: 'PATCH', url: `${USERS}/${user.id}`, payload: { is_superuser: true } },
      { method: 'PATCH', url: `${USERS}/${missing}`, payload: { is_active: false } },
      { method: 'DELETE', url: `${USERS}/${victim.id}` },
      { method: 'DELETE', url: `${USERS}/${missing}` },
      { method: 'DELETE', url: `${USERS}/${victim.id}/sessions` },
      { method: 'DELETE', url: `${USERS}/${missing}/sessions` },
    ] as const
    for (const call of calls) {
      const res = await app.inject({ ...call, headers })
      expect(res.statusCode, `${call.method} ${call.url}`).toBe(403)
      expect(res.json()).toEqual({ detail: 'Not enough permissions' })
    }
    // Nothing happened to the victim, and the caller did not promote itself.
    await loginAs(app, victim)
    const me = await app.inject({ method: 'GET', url: `${USERS}/me`, headers })
    expect(me.json().is_superuser).toBe(false)
  })

  it('answers 401 without a token', async () => {
    const { app } = await buildTestApp()
    for (const url of [USERS, `${USERS}/${randomUUID()}`]) {
      const res = await app.inject({ method: 'GET', url })
      expect(res.statusCode).toBe(401)
      expect(res.headers['www-authenticate']).toBe('Bearer realm="keygate"')
    }
  })

  it('keeps /users/me routes apart from /users/:id', async () => {
    const { app, admin } = await buildAdminApp()
    const me = await app.inject({ method: 'GET', url: `${USERS}/me`, headers: admin.headers })
    expect(me.json().id).toBe(admin.id)
    const patched = await app.inject({
      method: 'PATCH',
      url: `${USERS}/me`,
      headers: admin.headers,
      payload: { username: 'root' },
    })
    expect(patched.json().username).toBe('root')
  })
})

describe('admin routes for a superuser', () => {
  it('lists users with a total, limit and offset', async () => {
    const { app, admin } = await buildAdminApp()
    for (let i = 0; i < 3; i++) await createUser(app)
    const all = await app.inject({ method: 'GET', url: USERS, headers: admin.headers })
    expect(all.statusCode).toBe(200)
    expect(all.json().total).toBe(4)
    expect(all.json().items).toHaveLength(4)
    expect(all.json().items[0]).not.toHaveProperty('hashed_password')
    const page = await app.inject({
      method: 'GET',
      url: `${USERS}?limit=2&offset=3`,
      headers: admin.headers,
    })
    expect(page.json()).toMatchObject({ total: 4 })
    expect(page.json().items).toHaveLength(1)
    const tooMany = await app.inject({
      method: 'GET',
      url: `${USERS}?limit=101`,
      headers: admin.headers,
    })
    expect(tooMany.statusCode).toBe(422)
  })

  it('reads one user, and answers 404 for an unknown id', async () => {
    const { app, admin } = await buildAdminApp()
    const user = await createUser(app)
    const res = await app.inject({
      method: 'GET',
      url: `${USERS}/${user.id}`,
      headers: admin.headers,
    })
    expect(res.json()).toMatchObject({ id: user.id, email: user.email, is_active: true })
    for (const [method, url] of [
      ['GET', `${USERS}/${randomUUID()}`],
      ['PATCH', `${USERS}/${randomUUID()}`],
      ['DELETE', `${USERS}/${randomUUID()}`],
      ['DELETE', `${USERS}/${randomUUID()}/sessions`],
    ] as const) {
      const missing = await app.inject({
        method,
        url,
        headers: admin.headers,
        payload: method === 'PATCH' ? {} : undefined,
      })
      expect(missing.statusCode, `${method} ${url}`).toBe(404)
      expect(missing.json()).toEqual({ detail: 'User not found' })
    }
  })

  it('deactivating a user kills their tokens on the next request; reactivating lets them log in', async () => {
    const { app, admin } = await buildAdminApp()
    const user = await createUser(app)
    const { headers } = await loginAs(app, user)
    const res = await app.inject({
      method: 'PATCH',
      url: `${USERS}/${user.id}`,
      headers: admin.headers,
      payload: { is_active: false },
    })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json().is_active).toBe(false)
    expect(await meStatus(app, headers)).toBe(401)
    const login = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: user.email, password: user.password },
    })
    expect(login.statusCode).toBe(403)
    await app.inject({
      method: 'PATCH',
      url: `${USERS}/${user.id}`,
      headers: admin.headers,
      payload: { is_active: true },
    })
    // The old session stays revoked; a new login works.
    expect(await meStatus(app, headers)).toBe(401)
    await loginAs(app, user)
  })

  it('promotes a user, who can then use the admin routes', async () => {
    const { app, admin } = await buildAdminApp()
    const user = await createUser(app)
    const { headers } = await loginAs(app, user)
    const res = await app.inject({
      method: 'PATCH',
      url: `${USERS}/${user.id}`,
      headers: admin.headers,
      payload: { is_superuser: true },
    })
    expect(res.json().is_superuser).toBe(true)
    // Scopes are fixed when a token is issued: the old token has no `admin`,
    // a sign-in after the promotion does (SPEC §6).
    expect((await app.inject({ method: 'GET', url: USERS, headers })).statusCode).toBe(403)
    const fresh = await loginAs(app, user)
    expect(fresh.tokens.scope.split(' ')).toContain('admin')
    const list = await app.inject({ method: 'GET', url: USERS, headers: fresh.headers })
    expect(list.statusCode).toBe(200)
  })

  it('deletes a user with their posts', async () => {
    const { app, admin } = await buildAdminApp()
    const user = await createUser(app)
    const { headers } = await loginAs(app, user)
    const post = await createPost(app, headers)
    const res = await app.inject({
      method: 'DELETE',
      url: `${USERS}/${user.id}`,
      headers: admin.headers,
    })
    expect(res.statusCode).toBe(204)
    expect(await meStatus(app, headers)).toBe(401)
    expect((await app.inject({ method: 'GET', url: `/api/v1/posts/${post.id}` })).statusCode).toBe(
      404,
    )
    expect(
      (await app.inject({ method: 'GET', url: `${USERS}/${user.id}`, headers: admin.headers }))
        .statusCode,
    ).toBe(404)
  })

  it('signs a user out everywhere', async () => {
    const { app, admin } = await buildAdminApp()
    const user = await createUser(app)
    const a = await loginAs(app, user)
    const b = await loginAs(app, user)
    const res = await app.inject({
      method: 'DELETE',
      url: `${USERS}/${user.id}/sessions`,
      headers: admin.headers,
    })
    expect(res.statusCode).toBe(204)
    expect(await meStatus(app, a.headers)).toBe(401)
    expect(await meStatus(app, b.headers)).toBe(401)
    expect(await meStatus(app, admin.headers)).toBe(200)
    await loginAs(app, user)
  })
})
