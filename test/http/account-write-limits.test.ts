import type { FastifyInstance } from 'fastify'
import { describe, expect, it } from 'vitest'
import { buildTestApp } from '../helpers/app.js'
import { createUser, loginAs } from '../helpers/factories.js'
import { throttled } from '../helpers/rate-limit.js'

// Issue 14, low: 409s of PATCH /users/me are counted as signup's are, and
// post creation has a per-account rate.

const patchMe = (app: FastifyInstance, headers: Record<string, string>, payload: object) =>
  app.inject({
    method: 'PATCH',
    url: '/api/v1/users/me',
    remoteAddress: '203.0.113.9',
    headers,
    payload,
  })

describe('PATCH /users/me conflicts', () => {
  it('409s for taken usernames count against the client like signup conflicts', async () => {
    const { app } = await buildTestApp(throttled({ signupConflictsPerHour: 3 }))
    const taken = await createUser(app, { username: 'taken-name' })
    const prober = await createUser(app)
    const { headers } = await loginAs(app, prober)
    for (let i = 0; i < 3; i++) {
      const res = await patchMe(app, headers, { username: 'TAKEN-name' })
      expect(res.statusCode).toBe(409)
    }
    const refused = await patchMe(app, headers, { username: 'taken-name' })
    expect(refused.statusCode).toBe(429)
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1)
    // The same budget as signup's: probing there is refused too.
    const signup = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/signup',
      remoteAddress: '203.0.113.9',
      payload: { email: taken.email, password: 'a-fine-password-77' },
    })
    expect(signup.statusCode).toBe(429)
  })

  it('successful changes do not count', async () => {
    const { app } = await buildTestApp(throttled({ signupConflictsPerHour: 2 }))
    const user = await createUser(app)
    const { headers } = await loginAs(app, user)
    for (let i = 0; i < 5; i++) {
      expect((await patchMe(app, headers, { username: `name-${i}` })).statusCode).toBe(200)
    }
  })
})

describe('post creation rate', () => {
  it('each account may create RATE_LIMIT_POSTS_PER_MINUTE posts a minute', async () => {
    const { app, clock } = await buildTestApp(throttled({ postsPerMinute: 5 }))
    const a = await loginAs(app, await createUser(app))
    const b = await loginAs(app, await createUser(app))
    const post = (headers: Record<string, string>) =>
      app.inject({
        method: 'POST',
        url: '/api/v1/posts',
        headers,
        payload: { title: 't', content: 'c' },
      })
    for (let i = 0; i < 5; i++) expect((await post(a.headers)).statusCode).toBe(201)
    const refused = await post(a.headers)
    expect(refused.statusCode).toBe(429)
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1)
    // Another account has its own budget; the next minute brings a fresh one.
    expect((await post(b.headers)).statusCode).toBe(201)
    clock.advanceSeconds(60)
    expect((await post(a.headers)).statusCode).toBe(201)
  })

  it('an invalid post is a 422 and is not counted', async () => {
    const { app } = await buildTestApp(throttled({ postsPerMinute: 1 }))
    const a = await loginAs(app, await createUser(app))
    for (let i = 0; i < 3; i++) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/posts',
        headers: a.headers,
        payload: {},
      })
      expect(res.statusCode).toBe(422)
    }
    const ok = await app.inject({
      method: 'POST',
      url: '/api/v1/posts',
      headers: a.headers,
      payload: { title: 'ok' },
    })
    expect(ok.statusCode).toBe(201)
  })
})
