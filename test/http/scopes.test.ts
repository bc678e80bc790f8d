import type { FastifyInstance } from 'fastify'
import { describe, expect, it } from 'vitest'
import { ADMIN, buildAdminApp } from '../helpers/accounts.js'
import { buildTestApp } from '../helpers/app.js'
import { createUser, form, type TestUser, type Tokens } from '../helpers/factories.js'

// SPEC §6: scopes on Keygate's own API, through the password and refresh grants.
const USER_SCOPES = 'openid profile email offline_access posts:write account'
const DENIED = { detail: 'Not enough permissions' }
const challenge = (scope: string) =>
  `Bearer realm="keygate", error="insufficient_scope", scope="${scope}"`

async function grant(app: FastifyInstance, fields: Record<string, string>) {
  return app.inject({ method: 'POST', url: '/api/v1/auth/token', ...form(fields) })
}

async function signIn(
  app: FastifyInstance,
  user: { email: string; password: string },
  scope?: string,
) {
  const res = await grant(app, {
    username: user.email,
    password: user.password,
    ...(scope !== undefined && { scope }),
  })
  expect(res.statusCode, res.body).toBe(200)
  const tokens = res.json() as Tokens
  return { tokens, headers: { authorization: `Bearer ${tokens.access_token}` } }
}

const call = (
  app: FastifyInstance,
  headers: Record<string, string>,
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  url: string,
  payload?: object,
) => app.inject({ method, url: `/api/v1${url}`, headers, ...(payload && { payload }) })

async function expectInsufficient(res: Awaited<ReturnType<typeof call>>, scope: string) {
  expect(res.statusCode, res.body).toBe(403)
  expect(res.json()).toEqual(DENIED)
  expect(res.headers['www-authenticate']).toBe(challenge(scope))
}

async function userApp() {
  const t = await buildTestApp()
  const user: TestUser = await createUser(t.app)
  return { ...t, user }
}

describe('scopes on the token endpoint', () => {
  it('the password grant with no scope gets every scope the user may hold, and says so', async () => {
    const { app, user } = await userApp()
    const { tokens } = await signIn(app, user)
    expect(tokens.scope).toBe(USER_SCOPES)
    const json = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: user.email, password: user.password },
    })
    expect(json.json().scope).toBe(USER_SCOPES)
    const refreshed = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refresh_token: tokens.refresh_token },
    })
    expect(refreshed.json().scope).toBe(USER_SCOPES)
  })

  it("a superuser's token has admin; a user's never, even when asked for", async () => {
    const { app, admin } = await buildAdminApp()
    expect(admin.tokens.scope).toBe(`${USER_SCOPES} admin`)
    const user = await createUser(app)
    // RFC 6749 §3.3: a known scope the user may not hold is dropped, and the response says so.
    expect((await signIn(app, user, 'posts:write admin')).tokens.scope).toBe('posts:write')
    // Nothing grantable is left: invalid_scope.
    const only = await grant(app, { username: user.email, password: user.password, scope: 'admin' })
    expect(only.statusCode).toBe(400)
    expect(only.json().error).toBe('invalid_scope')
    // A user is refused the admin routes as before (not a superuser), whatever the token.
    const { headers } = await signIn(app, user)
    const list = await call(app, headers, 'GET', '/users')
    expect(list.statusCode).toBe(403)
    expect(list.json()).toEqual(DENIED)
    expect((await signIn(app, ADMIN, 'admin')).tokens.scope).toBe('admin')
  })

  it('an unknown or malformed scope is 400 invalid_scope, before the password is checked', async () => {
    const { app, user } = await userApp()
    for (const scope of ['openid write', 'ADMIN', 'openid\temail', 'posts:*']) {
      for (const password of [user.password, 'wrong-password']) {
        const res = await grant(app, { username: user.email, password, scope })
        expect(res.statusCode, scope).toBe(400)
        expect(res.json()).toMatchObject({ error: 'invalid_scope' })
        expect(res.headers['www-authenticate']).toBeUndefined()
      }
    }
    // Repeated names and extra spaces are one scope each.
    expect((await signIn(app, user, ' email  openid email ')).tokens.scope).toBe('openid email')
  })
})

describe('routes check the scope their token carries', () => {
  it('openid email: can read /users/me, but not edit the profile, the password, posts or users', async () => {
    const { app, admin } = await buildAdminApp()
    const user = await createUser(app)
    const { headers, tokens } = await signIn(app, user, 'openid email')
    expect(tokens.scope).toBe('openid email')
    expect((await call(app, headers, 'GET', '/users/me')).statusCode).toBe(200)
    await expectInsufficient(
      await call(app, headers, 'PATCH', '/users/me', { username: 'newname' }),
      'account',
    )
    await expectInsufficient(
      await call(app, headers, 'POST', '/users/me/password', {
        current_password: user.password,
        new_password: 'Another-Pass-2026',
      }),
      'account',
    )
    await expectInsufficient(
      await call(app, headers, 'DELETE', '/users/me', { password: user.password }),
      'account',
    )
    await expectInsufficient(await call(app, headers, 'GET', '/users/me/sessions'), 'account')
    await expectInsufficient(
      await call(app, headers, 'POST', '/posts', { title: 't', content: 'c' }),
      'posts:write',
    )
    expect((await call(app, headers, 'GET', '/users')).json()).toEqual(DENIED)
    // Nothing happened: the username is unchanged and no post exists.
    expect((await call(app, headers, 'GET', '/users/me')).json().username).toBeNull()
    expect((await call(app, {}, 'GET', '/posts')).json().total).toBe(0)

    // A superuser's openid email token cannot use the admin routes either.
    const narrow = await signIn(app, ADMIN, 'openid email')
    await expectInsufficient(await call(app, narrow.headers, 'GET', '/users'), 'admin')
    await expectInsufficient(await call(app, narrow.headers, 'GET', `/users/${admin.id}`), 'admin')
    expect((await call(app, admin.headers, 'GET', '/users')).statusCode).toBe(200)
  })

  it('posts:write can post, edit and delete, but not change the password', async () => {
    const { app, user } = await userApp()
    const { headers } = await signIn(app, user, 'posts:write')
    const created = await call(app, headers, 'POST', '/posts', { title: 't', content: 'c' })
    expect(created.statusCode).toBe(201)
    const id = created.json().id
    expect((await call(app, headers, 'PATCH', `/posts/${id}`, { title: 'u' })).statusCode).toBe(200)
    await expectInsufficient(
      await call(app, headers, 'POST', '/users/me/password', {
        current_password: user.password,
        new_password: 'Another-Pass-2026',
      }),
      'account',
    )
    expect((await call(app, headers, 'DELETE', `/posts/${id}`)).statusCode).toBe(204)
  })

  it('the scope is checked before the body: a bad body without the scope is still 403', async () => {
    const { app, user } = await userApp()
    const { headers } = await signIn(app, user, 'openid')
    await expectInsufficient(
      await call(app, headers, 'POST', '/posts', { title: 5 }),
      'posts:write',
    )
    await expectInsufficient(
      await call(app, headers, 'DELETE', '/users/me/sessions/not-a-uuid'),
      'account',
    )
  })

  it('logging out of one session needs no scope; logging out everywhere needs account', async () => {
    const { app, user } = await userApp()
    const other = await signIn(app, user)
    const { headers } = await signIn(app, user, 'openid')
    await expectInsufficient(
      await call(app, headers, 'POST', '/auth/logout', { all: true }),
      'account',
    )
    expect((await call(app, other.headers, 'GET', '/users/me')).statusCode).toBe(200)
    expect((await call(app, headers, 'POST', '/auth/logout')).statusCode).toBe(204)
    expect((await call(app, headers, 'GET', '/users/me')).statusCode).toBe(401)
    expect((await call(app, other.headers, 'POST', '/auth/logout', { all: true })).statusCode).toBe(
      204,
    )
    expect((await call(app, other.headers, 'GET', '/users/me')).statusCode).toBe(401)
  })
})

describe('refresh narrows, never widens (RFC 6749 §6)', () => {
  const refresh = (app: FastifyInstance, token: string, scope?: string) =>
    grant(app, {
      grant_type: 'refresh_token',
      refresh_token: token,
      ...(scope !== undefined && { scope }),
    })

  it('a narrower access token; the family keeps its grant', async () => {
    const { app, user } = await userApp()
    const { tokens } = await signIn(app, user)
    const narrowed = await refresh(app, tokens.refresh_token, 'openid posts:write')
    expect(narrowed.statusCode, narrowed.body).toBe(200)
    const body = narrowed.json() as Tokens
    expect(body.scope).toBe('openid posts:write')
    const headers = { authorization: `Bearer ${body.access_token}` }
    expect(
      (await call(app, headers, 'POST', '/posts', { title: 't', content: 'c' })).statusCode,
    ).toBe(201)
    await expectInsufficient(
      await call(app, headers, 'PATCH', '/users/me', { username: 'x1y2z3' }),
      'account',
    )
    // The next refresh without a scope gets the family's whole grant again.
    const again = await refresh(app, body.refresh_token)
    expect(again.json().scope).toBe(USER_SCOPES)
  })

  it('widening is invalid_scope and leaves the refresh token unspent', async () => {
    const { app, user } = await userApp()
    const { tokens } = await signIn(app, user, 'openid email')
    for (const scope of ['openid email account', 'posts:write', 'admin', 'nonsense']) {
      const res = await refresh(app, tokens.refresh_token, scope)
      expect(res.statusCode, scope).toBe(400)
      expect(res.json()).toMatchObject({ error: 'invalid_scope' })
    }
    const ok = await refresh(app, tokens.refresh_token, 'email')
    expect(ok.statusCode, ok.body).toBe(200)
    expect(ok.json().scope).toBe('email')
    const next = await refresh(app, ok.json().refresh_token)
    expect(next.json().scope).toBe('openid email')
  })

  it('introspection reports the scope of the access token and of the refresh family', async () => {
    const { app, user } = await buildTestApp({ introspectionSecret: 's'.repeat(40) }).then(
      async (t) => ({ ...t, user: await createUser(t.app) }),
    )
    const { tokens } = await signIn(app, user, 'openid posts:write')
    const narrowed = (await refresh(app, tokens.refresh_token, 'posts:write')).json() as Tokens
    const introspect = (token: string) =>
      app.inject({
        method: 'POST',
        url: '/api/v1/auth/introspect',
        headers: {
          authorization: `Bearer ${'s'.repeat(40)}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        payload: new URLSearchParams({ token }).toString(),
      })
    expect((await introspect(narrowed.access_token)).json()).toMatchObject({
      active: true,
      scope: 'posts:write',
    })
    expect((await introspect(narrowed.refresh_token)).json()).toMatchObject({
      active: true,
      scope: 'openid posts:write',
      token_type: 'refresh_token',
    })
  })
})
