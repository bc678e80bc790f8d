import { describe, expect, it } from 'vitest'
import { buildTestApp } from '../helpers/app.js'
import { createUser, form, loginAs } from '../helpers/factories.js'

type App = Awaited<ReturnType<typeof buildTestApp>>['app']
type Db = Awaited<ReturnType<typeof buildTestApp>>['database']

const SECRET = 'introspection-secret-of-at-least-32-bytes!'

const revoke = (app: App, fields: Record<string, string>) =>
  app.inject({ method: 'POST', url: '/api/v1/auth/revoke', ...form(fields) })

const introspect = (app: App, auth: string | undefined, token: string) => {
  const f = form({ token })
  return app.inject({
    method: 'POST',
    url: '/api/v1/auth/introspect',
    payload: f.payload,
    headers: { ...f.headers, ...(auth && { authorization: auth }) },
  })
}

const status = async (app: App, access: string) =>
  (
    await app.inject({
      method: 'GET',
      url: '/api/v1/users/me',
      headers: { authorization: `Bearer ${access}` },
    })
  ).statusCode

async function superuser(app: App, database: Db) {
  const user = await createUser(app)
  await database.db
    .updateTable('users')
    .set({ is_superuser: 1 })
    .where('id', '=', user.id)
    .execute()
  return (await loginAs(app, user)).headers.authorization
}

describe('revoke (RFC 7009)', () => {
  for (const hint of [undefined, 'access_token', 'refresh_token']) {
    for (const kind of ['access_token', 'refresh_token'] as const) {
      it(`revoking the ${kind} (hint ${hint}) revokes its whole session`, async () => {
        const { app } = await buildTestApp()
        const user = await createUser(app)
        const { tokens } = await loginAs(app, user)
        const other = await loginAs(app, user)
        const res = await revoke(app, {
          token: tokens[kind],
          ...(hint && { token_type_hint: hint }),
        })
        expect(res.statusCode).toBe(200)
        expect(await status(app, tokens.access_token)).toBe(401)
        const r = await app.inject({
          method: 'POST',
          url: '/api/v1/auth/refresh',
          payload: { refresh_token: tokens.refresh_token },
        })
        expect(r.statusCode).toBe(401)
        expect(await status(app, other.tokens.access_token)).toBe(200)
      })
    }
  }

  it('answers 200 for unknown, garbage and already-revoked tokens', async () => {
    const { app } = await buildTestApp()
    const { tokens } = await loginAs(app, await createUser(app))
    for (const token of ['nope', 'a.b.c', tokens.refresh_token, tokens.refresh_token]) {
      expect((await revoke(app, { token, token_type_hint: 'whatever' })).statusCode).toBe(200)
    }
  })

  it('a missing token is 400 invalid_request', async () => {
    const { app } = await buildTestApp()
    const res = await revoke(app, { token_type_hint: 'access_token' })
    expect(res.statusCode).toBe(400)
    expect(res.json().error).toBe('invalid_request')
  })
})

describe('introspect (RFC 7662)', () => {
  it('needs credentials: 401 without, 401 for a bad bearer, 403 for a plain user', async () => {
    const { app } = await buildTestApp({ introspectionSecret: SECRET })
    const { tokens, headers } = await loginAs(app, await createUser(app))
    const none = await introspect(app, undefined, tokens.access_token)
    expect(none.statusCode).toBe(401)
    expect(none.headers['www-authenticate']).toBe('Bearer realm="keygate"')
    expect((await introspect(app, 'Bearer wrong-secret', tokens.access_token)).statusCode).toBe(401)
    const plain = await introspect(app, headers.authorization, tokens.access_token)
    expect(plain.statusCode).toBe(403)
    expect(plain.json()).toEqual({ detail: 'Not enough permissions' })
  })

  it('describes a live access token to a holder of INTROSPECTION_SECRET', async () => {
    const { app, config } = await buildTestApp({ introspectionSecret: SECRET })
    const user = await createUser(app, { username: 'introspected' })
    const { tokens } = await loginAs(app, user)
    const res = await introspect(app, `Bearer ${SECRET}`, tokens.access_token)
    expect(res.statusCode).toBe(200)
    expect(res.headers['cache-control']).toBe('no-store')
    const body = res.json()
    expect(body).toMatchObject({
      active: true,
      sub: user.id,
      client_id: 'keygate',
      iss: config.jwtIssuer,
      aud: 'keygate',
      // A user's token from the password grant: every scope but admin (SPEC §6).
      scope: 'openid profile email offline_access posts:write account',
      token_type: 'access_token',
      username: 'introspected',
    })
    expect(body.exp - body.iat).toBe(30 * 60)
    expect(body.sid).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('describes a refresh token to a superuser; a spent one is inactive', async () => {
    const { app, database } = await buildTestApp()
    const admin = await superuser(app, database)
    const user = await createUser(app)
    const { tokens } = await loginAs(app, user)
    const body = (await introspect(app, admin, tokens.refresh_token)).json()
    expect(body).toMatchObject({ active: true, sub: user.id, token_type: 'refresh_token' })
    expect(body.username).toBeUndefined()
    await app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refresh_token: tokens.refresh_token },
    })
    expect((await introspect(app, admin, tokens.refresh_token)).json()).toEqual({ active: false })
  })

  it('active: false after logout, for both tokens', async () => {
    const { app } = await buildTestApp({ introspectionSecret: SECRET })
    const { tokens, headers } = await loginAs(app, await createUser(app))
    await app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers })
    for (const t of [tokens.access_token, tokens.refresh_token]) {
      expect((await introspect(app, `Bearer ${SECRET}`, t)).json()).toEqual({ active: false })
    }
  })

  it('active: false for expired, garbage and unknown tokens, and for inactive users', async () => {
    const { app, clock, database } = await buildTestApp({ introspectionSecret: SECRET })
    const user = await createUser(app)
    const { tokens } = await loginAs(app, user)
    const ask = async (t: string) => (await introspect(app, `Bearer ${SECRET}`, t)).json()
    for (const t of ['garbage', 'a.b.c', 'x'.repeat(43)])
      expect(await ask(t)).toEqual({ active: false })

    await database.db.updateTable('users').set({ is_active: 0 }).where('id', '=', user.id).execute()
    expect(await ask(tokens.access_token)).toEqual({ active: false })
    expect(await ask(tokens.refresh_token)).toEqual({ active: false })
    await database.db.updateTable('users').set({ is_active: 1 }).where('id', '=', user.id).execute()
    expect((await ask(tokens.access_token)).active).toBe(true)

    clock.advanceSeconds(30 * 60 + 1)
    expect(await ask(tokens.access_token)).toEqual({ active: false })
  })

  it('a missing token is 400', async () => {
    const { app } = await buildTestApp({ introspectionSecret: SECRET })
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/introspect',
      headers: {
        authorization: `Bearer ${SECRET}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      payload: '',
    })
    expect(res.statusCode).toBe(400)
    // RFC 7662 §2.1 is an OAuth endpoint: its 400 carries the RFC 6749 §5.2 code.
    expect(res.json()).toEqual({
      error: 'invalid_request',
      error_description: 'Invalid request',
      detail: 'Invalid request',
    })
  })

  it('without INTROSPECTION_SECRET configured, no bearer string acts as one', async () => {
    const { app } = await buildTestApp()
    const { tokens } = await loginAs(app, await createUser(app))
    expect((await introspect(app, 'Bearer ', tokens.access_token)).statusCode).toBe(401)
    expect((await introspect(app, 'Bearer undefined', tokens.access_token)).statusCode).toBe(401)
  })
})
