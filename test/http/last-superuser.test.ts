import { describe, expect, it } from 'vitest'
import { ADMIN, buildAdminApp, meStatus } from '../helpers/accounts.js'
import { createUser, loginAs } from '../helpers/factories.js'

const USERS = '/api/v1/users'
const LAST = { detail: 'Cannot remove the last active superuser' }

describe('the last active superuser', () => {
  it('cannot be deactivated, demoted or deleted, nor delete itself', async () => {
    const { app, admin } = await buildAdminApp()
    const url = `${USERS}/${admin.id}`
    const headers = admin.headers
    const attempts = [
      { method: 'PATCH', url, headers, payload: { is_active: false } },
      { method: 'PATCH', url, headers, payload: { is_superuser: false } },
      { method: 'PATCH', url, headers, payload: { is_active: false, is_superuser: true } },
      { method: 'DELETE', url, headers },
      { method: 'DELETE', url: `${USERS}/me`, headers, payload: { password: ADMIN.password } },
    ] as const
    for (const attempt of attempts) {
      const res = await app.inject(attempt)
      expect(res.statusCode, `${attempt.method} ${JSON.stringify(attempt)}`).toBe(409)
      expect(res.json()).toEqual(LAST)
    }
    const me = await app.inject({ method: 'GET', url: `${USERS}/me`, headers })
    expect(me.json()).toMatchObject({ is_active: true, is_superuser: true })
  })

  it('can step down once another active superuser exists', async () => {
    const { app, admin } = await buildAdminApp()
    const other = await createUser(app)
    await app.inject({
      method: 'PATCH',
      url: `${USERS}/${other.id}`,
      headers: admin.headers,
      payload: { is_superuser: true },
    })
    const res = await app.inject({
      method: 'PATCH',
      url: `${USERS}/${admin.id}`,
      headers: admin.headers,
      payload: { is_superuser: false },
    })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json().is_superuser).toBe(false)
    // Now the other one is the last.
    const { headers } = await loginAs(app, other)
    const last = await app.inject({
      method: 'DELETE',
      url: `${USERS}/me`,
      headers,
      payload: { password: other.password },
    })
    expect(last.statusCode).toBe(409)
  })

  it('does not count an inactive superuser as the one that remains', async () => {
    const { app, admin } = await buildAdminApp()
    const other = await createUser(app)
    const url = `${USERS}/${other.id}`
    await app.inject({
      method: 'PATCH',
      url,
      headers: admin.headers,
      payload: { is_superuser: true },
    })
    const off = await app.inject({
      method: 'PATCH',
      url,
      headers: admin.headers,
      payload: { is_active: false },
    })
    expect(off.json()).toMatchObject({ is_superuser: true, is_active: false })
    const res = await app.inject({
      method: 'DELETE',
      url: `${USERS}/${admin.id}`,
      headers: admin.headers,
    })
    expect(res.statusCode).toBe(409)
  })

  it('holds when two superusers demote each other at the same moment', async () => {
    const { app, admin } = await buildAdminApp()
    const other = await createUser(app)
    await app.inject({
      method: 'PATCH',
      url: `${USERS}/${other.id}`,
      headers: admin.headers,
      payload: { is_superuser: true },
    })
    const second = await loginAs(app, other)
    const results = await Promise.all([
      app.inject({
        method: 'PATCH',
        url: `${USERS}/${other.id}`,
        headers: admin.headers,
        payload: { is_superuser: false },
      }),
      app.inject({
        method: 'PATCH',
        url: `${USERS}/${admin.id}`,
        headers: second.headers,
        payload: { is_superuser: false },
      }),
    ])
    const statuses = results.map((r) => r.statusCode).sort()
    expect(statuses[0]).toBe(200)
    // The loser is refused by the rule (409), or by the guard if it ran after the demotion (403).
    expect([403, 409]).toContain(statuses[1])
    const list = await Promise.all(
      [admin.headers, second.headers].map((headers) =>
        app.inject({ method: 'GET', url: `${USERS}/me`, headers }),
      ),
    )
    expect(list.filter((r) => r.json().is_superuser)).toHaveLength(1)
  })

  it('holds when two superusers delete their own accounts at the same moment', async () => {
    const { app, admin } = await buildAdminApp()
    const other = await createUser(app)
    await app.inject({
      method: 'PATCH',
      url: `${USERS}/${other.id}`,
      headers: admin.headers,
      payload: { is_superuser: true },
    })
    const second = await loginAs(app, other)
    const results = await Promise.all([
      app.inject({
        method: 'DELETE',
        url: `${USERS}/me`,
        headers: admin.headers,
        payload: { password: ADMIN.password },
      }),
      app.inject({
        method: 'DELETE',
        url: `${USERS}/me`,
        headers: second.headers,
        payload: { password: other.password },
      }),
    ])
    expect(results.map((r) => r.statusCode).sort()).toEqual([204, 409])
    const alive = [await meStatus(app, admin.headers), await meStatus(app, second.headers)]
    expect(alive.sort()).toEqual([200, 401])
  })
})
