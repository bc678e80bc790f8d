import fc from 'fast-check'
import type { FastifyInstance, InjectOptions } from 'fastify'
import { describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { createPost, createUser, loginAs } from '../helpers/factories.js'
import { appRoutes, ECHO_MARKER, requestsFor } from '../helpers/hostile.js'

const RUNS_PER_ROUTE = Number(process.env.HOSTILE_RUNS ?? 25)

/** What must hold for any request at all. */
function checkAnswer(req: InjectOptions, res: Awaited<ReturnType<FastifyInstance['inject']>>) {
  const what = `${req.method} ${req.url} → ${res.statusCode} ${res.body.slice(0, 300)}`
  expect(res.statusCode, what).toBeGreaterThanOrEqual(200)
  expect(res.statusCode, what).toBeLessThan(500)
  expect(res.body, what).not.toMatch(/node_modules|\.ts:\d+|\n\s+at |stack/)
  if (res.statusCode >= 400) {
    expect(res.headers['content-type'], what).toMatch(/^application\/json/)
    const body = res.json()
    const detail = body.detail
    if (typeof detail !== 'string') {
      expect(Array.isArray(detail), what).toBe(true)
      for (const issue of detail) {
        expect(issue, what).toEqual({
          loc: expect.any(Array),
          msg: expect.any(String),
          type: expect.any(String),
        })
      }
    }
    expect(res.body, `${what}: echoes a submitted value`).not.toContain(ECHO_MARKER)
  }
  // RFC 6749 §5.1: an answer carrying a token must not be stored.
  const answer = res.headers['content-type']?.toString().includes('json') ? res.json() : undefined
  if (typeof answer?.access_token === 'string' || typeof answer?.refresh_token === 'string') {
    expect(res.headers['cache-control'], what).toBe('no-store')
  }
}

/** Another user's account and post, as stored. */
async function snapshot(test: TestApp, userId: string) {
  const db = test.database.db
  const user = await db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst()
  const posts = await db.selectFrom('posts').selectAll().where('owner_id', '=', userId).execute()
  const sessions = await db
    .selectFrom('sessions')
    .selectAll()
    .where('user_id', '=', userId)
    .execute()
  return { user, posts, sessions }
}

describe('hostile input on every route', () => {
  it('never answers 5xx, keeps the error shape, stays healthy and leaves other users alone', async () => {
    const test = await buildTestApp()
    const { app } = test
    const victim = await createUser(app, { username: 'victim_user' })
    const victimLogin = await loginAs(app, victim)
    const victimPost = await createPost(app, victimLogin.headers, { title: 'mine' })
    const attacker = await createUser(app)
    const { headers } = await loginAs(app, attacker)
    const attackerPost = await createPost(app, headers)
    const before = await snapshot(test, victim.id)

    const ids = [victim.id, victimPost.id, attacker.id, attackerPost.id]
    const routes = appRoutes(app)
    expect(routes.length).toBeGreaterThan(8)
    for (const route of routes) {
      await fc.assert(
        fc.asyncProperty(requestsFor(route, ids, headers.authorization), async (req) => {
          checkAnswer(req, await app.inject(req))
        }),
        { numRuns: RUNS_PER_ROUTE },
      )
    }

    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200)
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200)
    expect(await snapshot(test, victim.id)).toEqual(before)
    const me = await app.inject({
      method: 'GET',
      url: '/api/v1/users/me',
      headers: victimLogin.headers,
    })
    expect(me.statusCode).toBe(200)
    const attackerRow = await test.database.db
      .selectFrom('users')
      .select('is_superuser')
      .where('id', '=', attacker.id)
      .executeTakeFirstOrThrow()
    expect(Number(attackerRow.is_superuser)).toBe(0)
  }, 240_000)
})

describe('hostile input, the known cases', () => {
  it('refuses U+0000 in a body or query with a 422 naming the field (PostgreSQL text cannot hold it)', async () => {
    const { app } = await buildTestApp()
    const user = await createUser(app)
    const { headers } = await loginAs(app, user)
    const cases: [InjectOptions, (string | number)[]][] = [
      [
        {
          method: 'POST',
          url: '/api/v1/auth/login',
          payload: { email: 'a\u0000@b.c', password: 'x' },
        },
        ['body', 'email'],
      ],
      [
        {
          method: 'POST',
          url: '/api/v1/posts',
          headers,
          payload: { title: 'ok', content: 'a\u0000' },
        },
        ['body', 'content'],
      ],
      [
        { method: 'POST', url: '/api/v1/auth/token', ...formBody('username=a%00b&password=x') },
        ['body', 'username'],
      ],
      [{ method: 'GET', url: '/api/v1/posts?limit=1%00' }, ['query', 'limit']],
    ]
    for (const [req, loc] of cases) {
      const res = await app.inject(req)
      expect(res.statusCode, String(req.url)).toBe(422)
      expect(res.json().detail[0].loc).toEqual(loc)
    }
  })

  it('treats __proto__ and constructor keys as plain data', async () => {
    const { app, database } = await buildTestApp()
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/signup',
      headers: { 'content-type': 'application/json' },
      payload: `{"email":"proto@example.com","password":"Proto-passw0rd","__proto__":{"is_superuser":true},"constructor":{"prototype":{"is_superuser":true}}}`,
    })
    expect(res.statusCode).toBe(201)
    expect(res.json().is_superuser).toBe(false)
    const form = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/token',
      ...formBody(
        '__proto__=x&constructor=y&username=proto@example.com&password=Proto-passw0rd&username=again',
      ),
    })
    expect(form.statusCode).toBe(422)
    const row = await database.db
      .selectFrom('users')
      .select('is_superuser')
      .executeTakeFirstOrThrow()
    expect(Number(row.is_superuser)).toBe(0)
    expect(({} as Record<string, unknown>).is_superuser).toBeUndefined()
  })
})

function formBody(payload: string) {
  return { payload, headers: { 'content-type': 'application/x-www-form-urlencoded' } }
}
