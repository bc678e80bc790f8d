import { randomUUID } from 'node:crypto'
import fc from 'fast-check'
import type { FastifyInstance } from 'fastify'
import { describe, expect, it } from 'vitest'
import { SCOPES } from '../../src/domain/scopes.js'
import { routeScopes } from '../../src/http/plugins/scope-check.js'
import { signHs256 } from '../../src/services/crypto/hs256.js'
import { ADMIN, buildAdminApp } from '../helpers/accounts.js'
import type { TestApp } from '../helpers/app.js'
import { TEST_SECRET } from '../helpers/config.js'
import { createUser, form, loginAs } from '../helpers/factories.js'

// SPEC §6: every route of the app answers insufficient_scope exactly when the
// token lacks the scope the route declared, and a token from before scopes
// holds every scope its user may hold.

const KEY = new TextEncoder().encode(TEST_SECRET)

/** An access token for a live session, signed as Keygate signs, with any `scope` claim (or none). */
function mint(t: TestApp, claims: { sub: string; sid: string; scope?: string }): string {
  const iat = Math.floor(t.clock.now().getTime() / 1000)
  const payload = {
    sid: claims.sid,
    client_id: 'keygate',
    ...(claims.scope !== undefined && { scope: claims.scope }),
    sub: claims.sub,
    iss: t.config.jwtIssuer,
    aud: t.config.jwtAudience,
    iat,
    exp: iat + 600,
    jti: randomUUID(),
  }
  return signHs256({ alg: 'HS256', typ: 'at+jwt' }, payload, KEY)
}

const claimsOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as {
    sub: string
    sid: string
  }

async function session(app: FastifyInstance, user: { email: string; password: string }) {
  return claimsOf((await loginAs(app, user)).tokens.access_token)
}

describe('the scope check over every route', () => {
  it('answers insufficient_scope iff the token lacks the route scope (fast-check)', async () => {
    const t = await buildAdminApp()
    const { app } = t
    const routes = routeScopes(app)
    // The table holds every route, and the ones SPEC §6 names have their scope.
    const scopeOf = (method: string, url: string) =>
      routes.find((r) => r.method === method && r.url === url)?.scope
    expect(routes.length).toBeGreaterThan(25)
    expect(scopeOf('GET', '/api/v1/users/me')).toBeUndefined()
    expect(scopeOf('PATCH', '/api/v1/users/me')).toBe('account')
    expect(scopeOf('POST', '/api/v1/users/me/password')).toBe('account')
    expect(scopeOf('DELETE', '/api/v1/users/me')).toBe('account')
    expect(scopeOf('GET', '/api/v1/users/me/sessions')).toBe('account')
    expect(scopeOf('POST', '/api/v1/posts')).toBe('posts:write')
    expect(scopeOf('GET', '/api/v1/posts')).toBeUndefined()
    expect(scopeOf('GET', '/api/v1/users')).toBe('admin')
    expect(scopeOf('DELETE', '/api/v1/users/:id/sessions')).toBe('admin')
    expect(scopeOf('POST', '/api/v1/auth/logout')).toBeUndefined()

    let current = await session(app, ADMIN)
    let judged = 0
    await fc.assert(
      fc.asyncProperty(
        fc.subarray([...SCOPES]),
        fc.constantFrom(...routes),
        async (held, route) => {
          const token = mint(t, { ...current, scope: held.join(' ') })
          // Path parameters get values that fail validation, which runs after the
          // scope check: nothing is changed by the route, whatever it is.
          const url = route.url.replace(/:[a-z_]+/g, 'not-a-uuid').replace('*', 'x')
          const res = await app.inject({
            method: route.method as 'GET',
            url,
            headers: { authorization: `Bearer ${token}` },
          })
          const denied =
            res.statusCode === 403 &&
            String(res.headers['www-authenticate']).includes('insufficient_scope')
          const missing = route.scope !== undefined && !held.includes(route.scope)
          expect(denied, `${route.method} ${route.url} with "${held.join(' ')}"`).toBe(missing)
          if (missing) {
            judged++
            // HEAD answers carry no body.
            if (route.method !== 'HEAD') {
              expect(res.json()).toEqual({ detail: 'Not enough permissions' })
            }
            expect(res.headers['www-authenticate']).toBe(
              `Bearer realm="keygate", error="insufficient_scope", scope="${route.scope}"`,
            )
          } else if (route.scope !== undefined) {
            // The guard let the token through: the check really judged it.
            expect(res.statusCode, `${route.method} ${route.url}`).not.toBe(401)
          }
          // A plain logout ends the session: the next case gets a new one.
          if (route.url === '/api/v1/auth/logout' && res.statusCode === 204) {
            current = await session(app, ADMIN)
          }
        },
      ),
      { numRuns: 300 },
    )
    expect(judged).toBeGreaterThan(20)
  }, 120_000)
})

describe('tokens and sessions from before scopes', () => {
  it('a token without a scope claim holds every scope its user may hold', async () => {
    const t = await buildAdminApp()
    const { app } = t
    const user = await createUser(app)
    const legacy = { authorization: `Bearer ${mint(t, await session(app, user))}` }
    const patch = await app.inject({
      method: 'PATCH',
      url: '/api/v1/users/me',
      headers: legacy,
      payload: { username: 'legacy_user' },
    })
    expect(patch.statusCode, patch.body).toBe(200)
    const post = await app.inject({
      method: 'POST',
      url: '/api/v1/posts',
      headers: legacy,
      payload: { title: 't', content: 'c' },
    })
    expect(post.statusCode).toBe(201)
    // A user may not hold admin: refused as before.
    const users = await app.inject({ method: 'GET', url: '/api/v1/users', headers: legacy })
    expect(users.statusCode).toBe(403)
    // A superuser's old token keeps the admin routes.
    const root = { authorization: `Bearer ${mint(t, await session(app, ADMIN))}` }
    expect(
      (await app.inject({ method: 'GET', url: '/api/v1/users', headers: root })).statusCode,
    ).toBe(200)
  })

  it('a refresh family from before the migration (NULL scope) refreshes to everything the user may hold', async () => {
    const t = await buildAdminApp()
    const user = await createUser(t.app)
    const { tokens } = await loginAs(t.app, user)
    await t.database.db.updateTable('sessions').set({ scope: null }).execute()
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/token',
      ...form({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token }),
    })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json().scope).toBe('openid profile email offline_access posts:write account')
    const narrowed = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/token',
      ...form({
        grant_type: 'refresh_token',
        refresh_token: res.json().refresh_token,
        scope: 'admin',
      }),
    })
    expect(narrowed.json().error).toBe('invalid_scope')
  })
})
