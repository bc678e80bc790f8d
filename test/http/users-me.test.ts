import { describe, expect, it } from 'vitest'
import { buildAdminApp } from '../helpers/accounts.js'
import { buildTestApp } from '../helpers/app.js'
import { createUser, loginAs } from '../helpers/factories.js'
import { must } from '../helpers/must.js'

const NOT_AUTHENTICATED = { detail: 'Not authenticated' }
const INVALID = { detail: 'Could not validate credentials' }
const CHALLENGE = 'Bearer realm="keygate"'
const INVALID_CHALLENGE = 'Bearer realm="keygate", error="invalid_token"'

const me = (authorization?: string) => ({
  method: 'GET' as const,
  url: '/api/v1/users/me',
  headers: authorization === undefined ? {} : { authorization },
})

describe('GET /api/v1/users/me', () => {
  it('returns the caller, never a hash', async () => {
    const { app } = await buildTestApp()
    const user = await createUser(app, { username: 'frank' })
    const { headers } = await loginAs(app, user)
    const res = await app.inject({ method: 'GET', url: '/api/v1/users/me', headers })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ id: user.id, email: user.email, username: 'frank' })
    expect(Object.keys(res.json()).sort()).toEqual(
      [
        'created_at',
        'email',
        'email_verified',
        'id',
        'is_active',
        'is_superuser',
        'username',
      ].sort(),
    )
    expect(res.body).not.toMatch(/hash|password/i)
  })

  it('no header or a non-Bearer scheme: 401 Not authenticated, plain challenge', async () => {
    const { app } = await buildTestApp()
    for (const auth of [
      undefined,
      'Basic Og==',
      'Basic dXNlcjpwYXNz',
      'Token abc',
      'Digest x',
      '',
    ]) {
      const res = await app.inject(me(auth))
      expect(res.statusCode, String(auth)).toBe(401)
      expect(res.json()).toEqual(NOT_AUTHENTICATED)
      expect(res.headers['www-authenticate']).toBe(CHALLENGE)
    }
  })

  it('matches the scheme case-insensitively', async () => {
    const { app } = await buildTestApp()
    const user = await createUser(app)
    const { tokens } = await loginAs(app, user)
    for (const scheme of ['Bearer', 'bearer', 'BEARER', 'bEaReR']) {
      const res = await app.inject(me(`${scheme} ${tokens.access_token}`))
      expect(res.statusCode, scheme).toBe(200)
    }
  })

  it('malformed or garbage tokens: 401 Could not validate credentials, invalid_token', async () => {
    const { app } = await buildTestApp()
    for (const auth of [
      'Bearer',
      'Bearer ',
      'Bearer x',
      'Bearer abc.def.ghi',
      'Bearer eyJhbGciOiJIUzI1NiJ9..',
      `Bearer ${'a'.repeat(5000)}`,
      'Bearer null',
      'Bearer a b c',
    ]) {
      const res = await app.inject(me(auth))
      expect(res.statusCode, auth.slice(0, 40)).toBe(401)
      expect(res.json()).toEqual(INVALID)
      expect(res.headers['www-authenticate']).toBe(INVALID_CHALLENGE)
    }
  })

  it('a deactivated user is refused on the very next request', async () => {
    const { app, admin } = await buildAdminApp()
    const user = await createUser(app)
    const { headers } = await loginAs(app, user)
    expect((await app.inject({ ...me(), headers })).statusCode).toBe(200)
    // Through the admin API: the guard's cached liveness is told of the change.
    const patch = { method: 'PATCH' as const, url: `/api/v1/users/${user.id}` }
    await app.inject({ ...patch, headers: admin.headers, payload: { is_active: false } })
    const res = await app.inject({ ...me(), headers })
    expect(res.statusCode).toBe(401)
    expect(res.json()).toEqual(INVALID)
    expect(res.headers['www-authenticate']).toBe(INVALID_CHALLENGE)
  })

  it('a token whose session row is gone or revoked is refused at once', async () => {
    const { app, database } = await buildTestApp()
    const user = await createUser(app)
    const first = await loginAs(app, user)
    const second = await loginAs(app, user)
    const sessions = await database.db
      .selectFrom('sessions')
      .select('id')
      .where('user_id', '=', user.id)
      .execute()
    expect(sessions).toHaveLength(2)
    await database.db.deleteFrom('sessions').where('id', '=', must(sessions[0]).id).execute()
    await database.db
      .updateTable('sessions')
      .set({ revoked_at: new Date().toISOString() })
      .where('id', '=', must(sessions[1]).id)
      .execute()
    for (const { headers } of [first, second]) {
      const res = await app.inject({ ...me(), headers })
      expect(res.statusCode).toBe(401)
      expect(res.json()).toEqual(INVALID)
    }
  })

  it("a deleted user's token is refused", async () => {
    const { app, database } = await buildTestApp()
    const user = await createUser(app)
    const { headers } = await loginAs(app, user)
    await database.db.deleteFrom('users').where('id', '=', user.id).execute()
    const res = await app.inject({ ...me(), headers })
    expect(res.statusCode).toBe(401)
    expect(res.json()).toEqual(INVALID)
  })

  it("another user's session id in a token does not authenticate", async () => {
    const { app, database } = await buildTestApp()
    const a = await createUser(app)
    const b = await createUser(app)
    const { headers } = await loginAs(app, a)
    await loginAs(app, b)
    // Move a's session to b: the token's sub (a) no longer owns its sid.
    await database.db
      .updateTable('sessions')
      .set({ user_id: b.id })
      .where('user_id', '=', a.id)
      .execute()
    const res = await app.inject({ ...me(), headers })
    expect(res.statusCode).toBe(401)
  })
})
