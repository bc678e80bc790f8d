import { describe, expect, it } from 'vitest'
import { buildTestApp } from '../helpers/app.js'
import { createUser, form, loginAs, type Tokens } from '../helpers/factories.js'

type App = Awaited<ReturnType<typeof buildTestApp>>['app']

const viaEndpoint = (app: App, refresh: string) =>
  app.inject({
    method: 'POST',
    url: '/api/v1/auth/token',
    ...form({ grant_type: 'refresh_token', refresh_token: refresh }),
  })

const viaJson = (app: App, refresh: string) =>
  app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: refresh } })

const me = (app: App, access: string) =>
  app.inject({
    method: 'GET',
    url: '/api/v1/users/me',
    headers: { authorization: `Bearer ${access}` },
  })

async function loggedIn(overrides = {}) {
  const t = await buildTestApp(overrides)
  const user = await createUser(t.app)
  const { tokens } = await loginAs(t.app, user)
  return { ...t, user, tokens }
}

function expectInvalidGrant(res: Awaited<ReturnType<App['inject']>>) {
  expect(res.statusCode).toBe(400)
  expect(res.json()).toEqual({
    error: 'invalid_grant',
    error_description: 'Invalid credentials',
    detail: 'Invalid credentials',
  })
  expect(res.headers['www-authenticate']).toBeUndefined()
}

function expectInvalidRefresh(res: Awaited<ReturnType<App['inject']>>) {
  expect(res.statusCode).toBe(401)
  expect(res.json()).toEqual({ detail: 'Invalid refresh token' })
  expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="keygate"/)
}

describe('refresh', () => {
  for (const [name, refresh] of [
    ['token endpoint', viaEndpoint],
    ['/auth/refresh', viaJson],
  ] as const) {
    it(`${name}: returns a new working pair, not cacheable`, async () => {
      const { app, tokens, clock } = await loggedIn()
      clock.advanceSeconds(1)
      const res = await refresh(app, tokens.refresh_token)
      expect(res.statusCode, res.body).toBe(200)
      expect(res.headers['cache-control']).toBe('no-store')
      expect(res.headers.pragma).toBe('no-cache')
      const next = res.json() as Tokens
      expect(next.token_type).toBe('bearer')
      expect(next.expires_in).toBe(30 * 60)
      expect(next.refresh_token).not.toBe(tokens.refresh_token)
      expect(next.access_token).not.toBe(tokens.access_token)
      expect(Buffer.from(next.refresh_token, 'base64url').length).toBeGreaterThanOrEqual(32)
      expect((await me(app, next.access_token)).statusCode).toBe(200)
      // The new refresh token rotates in turn.
      expect((await refresh(app, next.refresh_token)).statusCode).toBe(200)
    })
  }

  it('bad refresh tokens: 400 invalid_grant on the token endpoint, 401 on /auth/refresh', async () => {
    const { app } = await buildTestApp()
    expectInvalidGrant(await viaEndpoint(app, 'not-a-token'))
    expectInvalidRefresh(await viaJson(app, 'not-a-token'))
  })

  it('an overlong or empty string is a bad refresh token too, not a 422', async () => {
    const { app, tokens } = await loggedIn({ jwtAlgorithm: 'HS256' })
    // An access token pasted where the refresh token goes: the newcomer's mistake.
    for (const bad of [tokens.access_token, 'x'.repeat(5000), '']) {
      expectInvalidRefresh(await viaJson(app, bad))
      expectInvalidGrant(await viaEndpoint(app, `${bad}x`))
    }
  })

  it('a missing refresh token is a 422 on both', async () => {
    const { app } = await buildTestApp()
    const a = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/token',
      ...form({ grant_type: 'refresh_token' }),
    })
    expect(a.statusCode).toBe(422)
    expect(a.json().detail[0].loc).toEqual(['body', 'refresh_token'])
    const b = await app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: {} })
    expect(b.statusCode).toBe(422)
  })

  it('a requested scope on refresh is invalid_scope', async () => {
    const { app, tokens } = await loggedIn()
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/token',
      ...form({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, scope: 'admin' }),
    })
    expect(res.statusCode).toBe(400)
    expect(res.json().error).toBe('invalid_scope')
  })

  it('reuse after the grace window revokes the family; the newest access token fails too', async () => {
    const { app, tokens, clock, config } = await loggedIn()
    const first = (await viaJson(app, tokens.refresh_token)).json() as Tokens
    const second = (await viaJson(app, first.refresh_token)).json() as Tokens
    expect((await me(app, second.access_token)).statusCode).toBe(200)

    clock.advanceSeconds(config.refreshReuseGraceSeconds + 1)
    expectInvalidRefresh(await viaJson(app, tokens.refresh_token))

    const denied = await me(app, second.access_token)
    expect(denied.statusCode).toBe(401)
    expect(denied.json()).toEqual({ detail: 'Could not validate credentials' })
    expectInvalidRefresh(await viaJson(app, second.refresh_token))
  })

  it('reuse detection through the token endpoint answers invalid_grant', async () => {
    const { app, tokens, clock } = await loggedIn({ refreshReuseGraceSeconds: 0 })
    const next = (await viaEndpoint(app, tokens.refresh_token)).json() as Tokens
    clock.advanceSeconds(1)
    expectInvalidGrant(await viaEndpoint(app, tokens.refresh_token))
    expectInvalidGrant(await viaEndpoint(app, next.refresh_token))
  })

  it('with REFRESH_REUSE_GRACE_SECONDS=0 any second use is reuse, even at the same instant', async () => {
    const { app, tokens } = await loggedIn({ refreshReuseGraceSeconds: 0 })
    const next = (await viaJson(app, tokens.refresh_token)).json() as Tokens
    expectInvalidRefresh(await viaJson(app, tokens.refresh_token))
    expect((await me(app, next.access_token)).statusCode).toBe(401)
  })

  it('within the grace window a repeated refresh answers with another working pair', async () => {
    const { app, tokens, clock, config } = await loggedIn()
    const a = (await viaJson(app, tokens.refresh_token)).json() as Tokens
    clock.advanceSeconds(config.refreshReuseGraceSeconds)
    const retry = await viaJson(app, tokens.refresh_token)
    expect(retry.statusCode).toBe(200)
    const b = retry.json() as Tokens
    expect(b.refresh_token).not.toBe(a.refresh_token)
    // Both clients keep working: neither answer revoked the session.
    expect((await me(app, a.access_token)).statusCode).toBe(200)
    expect((await me(app, b.access_token)).statusCode).toBe(200)
    expect((await viaJson(app, a.refresh_token)).statusCode).toBe(200)
    expect((await viaJson(app, b.refresh_token)).statusCode).toBe(200)
  })

  it('two concurrent refreshes both leave a working refresh token', async () => {
    const { app, tokens } = await loggedIn()
    const results = await Promise.all([
      viaJson(app, tokens.refresh_token),
      viaEndpoint(app, tokens.refresh_token),
      viaJson(app, tokens.refresh_token),
    ])
    for (const r of results) expect(r.statusCode, r.body).toBe(200)
    const pairs = results.map((r) => r.json() as Tokens)
    expect(new Set(pairs.map((p) => p.refresh_token)).size).toBe(3)
    for (const p of pairs) {
      expect((await me(app, p.access_token)).statusCode).toBe(200)
      expect((await viaJson(app, p.refresh_token)).statusCode).toBe(200)
    }
  })

  it('a session idle longer than REFRESH_TOKEN_EXPIRE_DAYS cannot refresh', async () => {
    const { app, tokens, clock } = await loggedIn({ refreshTokenExpireDays: 2 })
    clock.advanceSeconds(2 * 86_400)
    expectInvalidRefresh(await viaJson(app, tokens.refresh_token))
  })

  it('refreshing moves the idle limit forward', async () => {
    const { app, tokens, clock } = await loggedIn({ refreshTokenExpireDays: 2 })
    let current = tokens
    for (let day = 0; day < 5; day++) {
      clock.advanceSeconds(86_400 + 3600)
      const res = await viaJson(app, current.refresh_token)
      expect(res.statusCode, `day ${day}`).toBe(200)
      current = res.json()
    }
  })

  it('no refresh extends a session past SESSION_MAX_DAYS', async () => {
    const { app, tokens, clock } = await loggedIn({ refreshTokenExpireDays: 2, sessionMaxDays: 3 })
    clock.advanceSeconds(86_400 + 3600)
    const a = (await viaJson(app, tokens.refresh_token)).json() as Tokens
    clock.advanceSeconds(86_400 + 3600)
    const b = await viaJson(app, a.refresh_token)
    expect(b.statusCode).toBe(200)
    clock.advanceSeconds(86_400)
    expectInvalidRefresh(await viaJson(app, b.json().refresh_token))
    expect((await me(app, b.json().access_token)).statusCode).toBe(401)
  })

  it('a deactivated user cannot refresh', async () => {
    const { app, tokens, user, database } = await loggedIn()
    await database.db.updateTable('users').set({ is_active: 0 }).where('id', '=', user.id).execute()
    expectInvalidRefresh(await viaJson(app, tokens.refresh_token))
  })

  it('after logout the refresh token is refused', async () => {
    const { app, tokens } = await loggedIn()
    const out = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      headers: { authorization: `Bearer ${tokens.access_token}` },
    })
    expect(out.statusCode).toBe(204)
    expectInvalidRefresh(await viaJson(app, tokens.refresh_token))
  })

  it('stores refresh tokens only as hashes', async () => {
    const { tokens, database } = await loggedIn()
    const rows = await database.db.selectFrom('refresh_tokens').selectAll().execute()
    expect(rows).toHaveLength(1)
    expect(JSON.stringify(rows)).not.toContain(tokens.refresh_token)
  })
})
