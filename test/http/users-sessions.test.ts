import { describe, expect, it } from 'vitest'
import { buildTestApp } from '../helpers/app.js'
import { createUser, loginAs } from '../helpers/factories.js'

const URL = '/api/v1/users/me/sessions'

describe('my sessions', () => {
  it('lists live sessions with the current one marked, newest use first', async () => {
    const { app, clock } = await buildTestApp()
    const user = await createUser(app)
    const first = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'user-agent': 'FirstBrowser/1.0' },
      payload: { email: user.email, password: user.password },
    })
    clock.advanceSeconds(60)
    const second = await loginAs(app, user)
    clock.advanceSeconds(60)
    const dead = await loginAs(app, user)
    await app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: dead.headers })
    await loginAs(app, await createUser(app))

    const res = await app.inject({ method: 'GET', url: URL, headers: second.headers })
    expect(res.statusCode).toBe(200)
    const list = res.json()
    expect(list).toHaveLength(2)
    expect(list.map((s: { current: boolean }) => s.current)).toEqual([true, false])
    const [mine, older] = list
    expect(Object.keys(mine).sort()).toEqual(
      [
        'client_id',
        'client_name',
        'created_at',
        'current',
        'id',
        'ip',
        'last_used_at',
        'user_agent',
      ].sort(),
    )
    expect(older.user_agent).toBe('FirstBrowser/1.0')
    expect(older.ip).toBe('127.0.0.1')
    expect(older.created_at).toBe('2026-01-01T00:00:00.000Z')
    expect(JSON.stringify(list)).not.toContain(first.json().refresh_token)
  })

  it('a refresh updates last_used_at', async () => {
    const { app, clock } = await buildTestApp()
    const { tokens } = await loginAs(app, await createUser(app))
    clock.advanceSeconds(3600)
    const next = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refresh_token: tokens.refresh_token },
    })
    const res = await app.inject({
      method: 'GET',
      url: URL,
      headers: { authorization: `Bearer ${next.json().access_token}` },
    })
    expect(res.json()[0].last_used_at).toBe('2026-01-01T01:00:00.000Z')
    expect(res.json()[0].created_at).toBe('2026-01-01T00:00:00.000Z')
  })

  it('DELETE revokes one of my sessions: its tokens stop working', async () => {
    const { app } = await buildTestApp()
    const user = await createUser(app)
    const keep = await loginAs(app, user)
    const gone = await loginAs(app, user)
    const list = (await app.inject({ method: 'GET', url: URL, headers: keep.headers })).json()
    const target = list.find((s: { current: boolean }) => !s.current)
    const del = await app.inject({
      method: 'DELETE',
      url: `${URL}/${target.id}`,
      headers: keep.headers,
    })
    expect(del.statusCode).toBe(204)
    const me = await app.inject({ method: 'GET', url: '/api/v1/users/me', headers: gone.headers })
    expect(me.statusCode).toBe(401)
    const again = await app.inject({
      method: 'DELETE',
      url: `${URL}/${target.id}`,
      headers: keep.headers,
    })
    expect(again.statusCode).toBe(404)
    expect(
      (await app.inject({ method: 'GET', url: URL, headers: keep.headers })).json(),
    ).toHaveLength(1)
  })

  it("someone else's session is a 404 and stays alive", async () => {
    const { app } = await buildTestApp()
    const alice = await loginAs(app, await createUser(app))
    const bob = await loginAs(app, await createUser(app))
    const [bobs] = (await app.inject({ method: 'GET', url: URL, headers: bob.headers })).json()
    const res = await app.inject({
      method: 'DELETE',
      url: `${URL}/${bobs.id}`,
      headers: alice.headers,
    })
    expect(res.statusCode).toBe(404)
    expect(res.json()).toEqual({ detail: 'Session not found' })
    expect(
      (await app.inject({ method: 'GET', url: '/api/v1/users/me', headers: bob.headers }))
        .statusCode,
    ).toBe(200)
  })

  it('an unknown id is a 404, a malformed one a 422, no token a 401', async () => {
    const { app } = await buildTestApp()
    const { headers } = await loginAs(app, await createUser(app))
    const unknown = await app.inject({
      method: 'DELETE',
      url: `${URL}/00000000-0000-4000-8000-000000000000`,
      headers,
    })
    expect(unknown.statusCode).toBe(404)
    expect((await app.inject({ method: 'DELETE', url: `${URL}/nope`, headers })).statusCode).toBe(
      422,
    )
    expect((await app.inject({ method: 'GET', url: URL })).statusCode).toBe(401)
  })

  it('expired sessions are not listed', async () => {
    const { app, clock } = await buildTestApp({ refreshTokenExpireDays: 1 })
    const user = await createUser(app)
    await loginAs(app, user)
    clock.advanceSeconds(86_400 + 1)
    const { headers } = await loginAs(app, user)
    const list = (await app.inject({ method: 'GET', url: URL, headers })).json()
    expect(list).toHaveLength(1)
    expect(list[0].current).toBe(true)
  })
})
