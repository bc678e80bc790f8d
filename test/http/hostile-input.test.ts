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
  if (/"(access_token|refresh_token)"/.test(res.body)) {
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
