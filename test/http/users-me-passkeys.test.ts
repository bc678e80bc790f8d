import { randomBytes, randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import type { Database } from '../../src/db/database.js'
import { createPasskeysRepo } from '../../src/repos/accounts/passkeys.js'
import { ADMIN, buildAdminApp } from '../helpers/accounts.js'
import { buildTestApp } from '../helpers/app.js'
import { createUser, loginAs } from '../helpers/factories.js'

const URL = '/api/v1/users/me/passkeys'

/** A stored passkey row (the ceremony itself is tested in test/db/passkeys-service.test.ts). */
async function addPasskey(database: Database, userId: string, name: string, at: Date) {
  const id = randomUUID()
  await createPasskeysRepo(database.db).insert({
    id,
    user_id: userId,
    credential_id: randomBytes(16).toString('base64url'),
    public_key: new Uint8Array(randomBytes(77)),
    counter: 0,
    transports: ['internal'],
    device_type: 'singleDevice',
    backed_up: false,
    name,
    created_at: at,
  })
  return id
}

describe('/users/me/passkeys', () => {
  it('lists my passkeys only, without credential ids or keys', async () => {
    const { app, database, clock } = await buildTestApp()
    const user = await createUser(app)
    const other = await createUser(app)
    const { headers } = await loginAs(app, user)
    const first = await addPasskey(database, user.id, 'Laptop', clock.now())
    clock.advanceSeconds(60)
    await addPasskey(database, user.id, 'Phone', clock.now())
    await addPasskey(database, other.id, 'Not mine', clock.now())
    const res = await app.inject({ method: 'GET', url: URL, headers })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toHaveLength(2)
    expect(res.json()[0]).toEqual({
      id: first,
      name: 'Laptop',
      created_at: '2026-01-01T00:00:00.000Z',
      last_used_at: null,
      synced: false,
    })
    expect(res.json()[1].name).toBe('Phone')
    expect((await app.inject({ method: 'GET', url: URL })).statusCode).toBe(401)
    // Factors belong to the `account` scope (SPEC §6).
    const narrow = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        username: user.email,
        password: user.password,
        scope: 'posts:write',
      }).toString(),
    })
    const denied = await app.inject({
      method: 'GET',
      url: URL,
      headers: { authorization: `Bearer ${narrow.json().access_token}` },
    })
    expect(denied.statusCode).toBe(403)
    expect(denied.headers['www-authenticate']).toContain('scope="account"')
  })

  it('renames and deletes mine; someone else’s or an unknown id is a 404', async () => {
    const { app, database, clock } = await buildTestApp()
    const user = await createUser(app)
    const other = await createUser(app)
    const { headers } = await loginAs(app, user)
    const mine = await addPasskey(database, user.id, 'Laptop', clock.now())
    const theirs = await addPasskey(database, other.id, 'Theirs', clock.now())

    const renamed = await app.inject({
      method: 'PATCH',
      url: `${URL}/${mine}`,
      headers,
      payload: { name: ' Work laptop ' },
    })
    expect(renamed.statusCode).toBe(200)
    expect(renamed.json().name).toBe('Work laptop')
    for (const payload of [{ name: '' }, { name: 'x'.repeat(65) }, { name: '   ' }, {}]) {
      const bad = await app.inject({ method: 'PATCH', url: `${URL}/${mine}`, headers, payload })
      expect(bad.statusCode, JSON.stringify(payload)).toBe(422)
    }
    const foreign = await app.inject({
      method: 'PATCH',
      url: `${URL}/${theirs}`,
      headers,
      payload: { name: 'Mine now' },
    })
    expect(foreign.statusCode).toBe(404)
    expect(foreign.json()).toEqual({ detail: 'Passkey not found' })
    expect(
      (await app.inject({ method: 'DELETE', url: `${URL}/${theirs}`, headers })).statusCode,
    ).toBe(404)
    expect(
      (await app.inject({ method: 'DELETE', url: `${URL}/not-a-uuid`, headers })).statusCode,
    ).toBe(422)

    expect(
      (await app.inject({ method: 'DELETE', url: `${URL}/${mine}`, headers })).statusCode,
    ).toBe(204)
    expect(
      (await app.inject({ method: 'DELETE', url: `${URL}/${mine}`, headers })).statusCode,
    ).toBe(404)
    expect((await app.inject({ method: 'GET', url: URL, headers })).json()).toEqual([])
    const left = await app.inject({
      method: 'GET',
      url: URL,
      headers: (await loginAs(app, other)).headers,
    })
    expect(left.json().map((p: { name: string }) => p.name)).toEqual(['Theirs'])
  })

  it('go with the account when it is deleted', async () => {
    const { app, database, clock } = await buildTestApp()
    const user = await createUser(app)
    const { headers } = await loginAs(app, user)
    await addPasskey(database, user.id, 'Laptop', clock.now())
    const res = await app.inject({
      method: 'DELETE',
      url: '/api/v1/users/me',
      headers,
      payload: { password: user.password },
    })
    expect(res.statusCode).toBe(204)
    const left = await database.db.selectFrom('passkeys').select('id').execute()
    expect(left).toEqual([])
  })

  it('are listed with the other factors, and go when a superuser resets them', async () => {
    const t = await buildAdminApp()
    const user = await createUser(t.app)
    const { headers } = await loginAs(t.app, user)
    const id = await addPasskey(t.database, user.id, 'Laptop', t.clock.now())
    const mfa = await t.app.inject({ method: 'GET', url: '/api/v1/users/me/mfa', headers })
    expect(mfa.json().passkeys).toEqual([
      { id, name: 'Laptop', created_at: '2026-01-01T00:00:00.000Z', last_used_at: null },
    ])
    const admin = await loginAs(t.app, ADMIN)
    const reset = await t.app.inject({
      method: 'POST',
      url: `/api/v1/users/${user.id}/mfa/reset`,
      headers: admin.headers,
    })
    expect(reset.statusCode).toBe(204)
    expect((await t.app.inject({ method: 'GET', url: URL, headers })).json()).toEqual([])
  })
})
