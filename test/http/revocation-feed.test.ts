import type { FastifyInstance } from 'fastify'
import { describe, expect, it, onTestFinished } from 'vitest'
import { createDeps } from '../../src/deps.js'
import { ADMIN, buildAdminApp, issueResetLink, meStatus, tokenOf } from '../helpers/accounts.js'
import { buildTestApp } from '../helpers/app.js'
import { createUser, form, loginAs, strongPassword } from '../helpers/factories.js'

const SECRET = 'introspection-secret-of-at-least-32-bytes!'
const AUTH = { authorization: `Bearer ${SECRET}` }

interface Entry {
  cursor: string
  sid?: string
  sub?: string
  until: number
  at: number
  keep_jti?: string
}

async function feed(app: FastifyInstance, query = '', headers: Record<string, string> = AUTH) {
  return app.inject({ method: 'GET', url: `/api/v1/auth/revocations${query}`, headers })
}

async function entries(app: FastifyInstance, after?: string): Promise<Entry[]> {
  const res = await feed(app, after === undefined ? '' : `?after=${after}`)
  expect(res.statusCode, res.body).toBe(200)
  return res.json().items
}

const claimsOf = (access: string): { sid: string; jti: string } =>
  JSON.parse(Buffer.from(access.split('.')[1]!, 'base64url').toString())
/** The session id inside an access token. */
const sidOf = (access: string): string => claimsOf(access).sid

const app = () => buildAdminApp({ introspectionSecret: SECRET })

describe('revocation feed: every revocation is an entry', () => {
  it('logout: the session, with until = now + token lifetime + skew', async () => {
    const t = await app()
    const user = await createUser(t.app)
    const { headers, tokens } = await loginAs(t.app, user)
    expect(await entries(t.app)).toEqual([])
    await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers })
    const [e, ...rest] = await entries(t.app)
    expect(rest).toEqual([])
    const now = Math.floor(t.clock.now().getTime() / 1000)
    expect(e).toEqual({
      cursor: '1',
      sid: sidOf(tokens.access_token),
      at: now,
      until: now + t.config.accessTokenExpireMinutes * 60 + 60,
    })
  })

  it('logout all, session delete, refresh reuse, RFC 7009 revoke, admin sign-out', async () => {
    const t = await app()
    const user = await createUser(t.app)
    const sessions: Awaited<ReturnType<typeof loginAs>>[] = []
    for (let i = 0; i < 6; i++) sessions.push(await loginAs(t.app, user))
    const sid = (i: number) => sidOf(sessions[i]!.tokens.access_token)
    const newSids = async (after: string) => (await entries(t.app, after)).map((e) => e.sid)

    await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/users/me/sessions/${sid(1)}`,
      headers: sessions[0]!.headers,
    })
    expect(await newSids('0')).toEqual([sid(1)])

    const refresh = sessions[2]!.tokens.refresh_token
    const spend = () =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/refresh',
        payload: { refresh_token: refresh },
      })
    expect((await spend()).statusCode).toBe(200)
    t.clock.advanceSeconds(t.config.refreshReuseGraceSeconds + 1)
    expect((await spend()).statusCode).toBe(401)
    expect(await newSids('1')).toEqual([sid(2)])

    await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/revoke',
      ...form({ token: sessions[3]!.tokens.access_token }),
    })
    expect(await newSids('2')).toEqual([sid(3)])

    await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/users/${user.id}/sessions`,
      headers: t.admin.headers,
    })
    expect((await newSids('3')).sort()).toEqual([sid(0), sid(4), sid(5)].sort())

    const again = await loginAs(t.app, user)
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      headers: again.headers,
      payload: { all: true },
    })
    expect(await newSids('6')).toEqual([sidOf(again.tokens.access_token)])
  })

  it('password change: every other session', async () => {
    const t = await app()
    const user = await createUser(t.app)
    const mine = await loginAs(t.app, user)
    const other = await loginAs(t.app, user)
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/users/me/password',
      headers: mine.headers,
      payload: { current_password: user.password, new_password: strongPassword() },
    })
    expect(res.statusCode, res.body).toBeLessThan(300)
    // Every other session, and in the changing one every token but the caller's.
    const [first, second, ...rest] = await entries(t.app)
    expect(rest).toEqual([])
    expect(first?.sid).toBe(sidOf(other.tokens.access_token))
    expect(first).not.toHaveProperty('keep_jti')
    expect(second?.sid).toBe(sidOf(mine.tokens.access_token))
    expect(second?.keep_jti).toBe(claimsOf(mine.tokens.access_token).jti)
  })

  it('password reset: every session', async () => {
    const t = await app()
    const user = await createUser(t.app)
    const a = await loginAs(t.app, user)
    const b = await loginAs(t.app, user)
    const link = await issueResetLink(t, user.email)
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/password-reset/confirm',
      payload: { token: tokenOf(link!), new_password: strongPassword() },
    })
    expect(res.statusCode, res.body).toBeLessThan(300)
    expect((await entries(t.app)).map((e) => e.sid).sort()).toEqual(
      [sidOf(a.tokens.access_token), sidOf(b.tokens.access_token)].sort(),
    )
  })

  it('deactivation: every session; deletion: the user', async () => {
    const t = await app()
    const user = await createUser(t.app)
    const a = await loginAs(t.app, user)
    await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${user.id}`,
      headers: t.admin.headers,
      payload: { is_active: false },
    })
    expect((await entries(t.app)).map((e) => e.sid)).toEqual([sidOf(a.tokens.access_token)])
    await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/users/${user.id}`,
      headers: t.admin.headers,
    })
    const last = (await entries(t.app, '1'))[0]
    expect(last?.sub).toBe(user.id)
    expect(last?.sid).toBeUndefined()

    const self = await createUser(t.app)
    const s = await loginAs(t.app, self)
    await t.app.inject({
      method: 'DELETE',
      url: '/api/v1/users/me',
      headers: s.headers,
      payload: { password: self.password },
    })
    expect((await entries(t.app, '2')).map((e) => e.sub)).toEqual([self.id])
  })

  it('a revocation that rolls back leaves no entry', async () => {
    const t = await app()
    const admin = await loginAs(t.app, ADMIN)
    // The last active superuser cannot be deactivated: the transaction rolls back.
    const res = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${t.admin.id}`,
      headers: admin.headers,
      payload: { is_active: false },
    })
    expect(res.statusCode).toBeGreaterThanOrEqual(400)
    expect(await entries(t.app)).toEqual([])
    expect(await meStatus(t.app, admin.headers)).toBe(200)
  })
})

describe('revocation feed: the route', () => {
  it('is authenticated as introspection is', async () => {
    const t = await app()
    const user = await createUser(t.app)
    const { headers } = await loginAs(t.app, user)
    expect((await feed(t.app, '', {})).statusCode).toBe(401)
    expect((await feed(t.app, '', { authorization: 'Bearer wrong' })).statusCode).toBe(401)
    expect((await feed(t.app, '', headers)).statusCode).toBe(403)
    expect((await feed(t.app, '', t.admin.headers)).statusCode).toBe(200)
    const res = await feed(t.app)
    expect(res.statusCode).toBe(200)
    expect(res.headers['cache-control']).toContain('no-store')
    expect(res.json()).toEqual({ items: [], cursor: '0' })
  })

  it('rejects malformed cursors and waits with 422', async () => {
    const t = await app()
    for (const q of ['?after=abc', '?after=-1', '?after=1e3', '?wait=-1', '?wait=x', '?wait=301']) {
      expect((await feed(t.app, q)).statusCode, q).toBe(422)
    }
  })

  it('pages from a cursor; an empty page keeps the cursor', async () => {
    const t = await app()
    const user = await createUser(t.app)
    for (let i = 0; i < 3; i++) {
      const s = await loginAs(t.app, user)
      await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: s.headers })
    }
    expect((await entries(t.app, '1')).map((e) => e.cursor)).toEqual(['2', '3'])
    const res = await feed(t.app, '?after=3&wait=0')
    expect(res.json()).toEqual({ items: [], cursor: '3' })
  })

  it('long-poll: held until a revocation is committed, then answered at once', async () => {
    const t = await app()
    const user = await createUser(t.app)
    const { headers } = await loginAs(t.app, user)
    const started = performance.now()
    const held = feed(t.app, '?after=0&wait=20')
    await new Promise((r) => setTimeout(r, 300))
    await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers })
    const res = await held
    const took = performance.now() - started
    expect(res.json().items).toHaveLength(1)
    expect(took).toBeGreaterThanOrEqual(250)
    expect(took).toBeLessThan(5000)
  })

  it('long-poll: nothing new within `wait` answers an empty page', async () => {
    const t = await app()
    const started = performance.now()
    const res = await feed(t.app, '?after=0&wait=1')
    expect(res.json()).toEqual({ items: [], cursor: '0' })
    expect(performance.now() - started).toBeGreaterThanOrEqual(900)
  })

  it('closing the server answers held requests', async () => {
    const t = await buildTestApp({ introspectionSecret: SECRET })
    const held = feed(t.app, '?wait=30')
    await new Promise((r) => setTimeout(r, 200))
    const started = performance.now()
    await t.app.close()
    expect((await held).json().items).toEqual([])
    expect(performance.now() - started).toBeLessThan(5000)
  })

  it('410 for a cursor the feed cannot continue: pruned past, or ahead of it', async () => {
    const t = await app()
    const user = await createUser(t.app)
    expect((await feed(t.app, '?after=5')).statusCode).toBe(410)
    for (let i = 0; i < 3; i++) {
      const s = await loginAs(t.app, user)
      await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: s.headers })
      t.clock.advanceSeconds(60)
    }
    expect((await feed(t.app, '?after=4')).statusCode).toBe(410)
    const deps = await createDeps(t.config, { database: t.database, clock: t.clock })
    onTestFinished(() => deps.close())
    const pruneFeed = () => deps.services.revocationFeed.prune()
    // Written at 0, 60 and 120 s, it is 180 s now: first only entry 1 expires,
    // then 2 and 3, but 3 is kept as the newest (the head stays known).
    t.clock.advanceSeconds(t.config.accessTokenExpireMinutes * 60 + 60 - 150)
    expect(await pruneFeed()).toBe(1)
    t.clock.advanceSeconds(3600)
    expect(await pruneFeed()).toBe(1)
    expect((await entries(t.app)).map((e) => e.cursor)).toEqual(['3'])
    expect((await feed(t.app, '?after=0')).statusCode).toBe(410)
    expect((await feed(t.app, '?after=1')).statusCode).toBe(410)
    expect((await feed(t.app, '?after=2')).json().items).toHaveLength(1)
    expect((await feed(t.app, '?after=3')).json().items).toHaveLength(0)
    expect((await feed(t.app, '?after=4')).statusCode).toBe(410)
    const body = (await feed(t.app, '?after=0')).json()
    expect(body.detail).toMatch(/resync/)
  })
})
