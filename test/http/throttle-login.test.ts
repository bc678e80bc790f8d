import type { FastifyInstance } from 'fastify'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config.js'
import { buildTestApp } from '../helpers/app.js'
import { createUser, form, randomEmail } from '../helpers/factories.js'
import { createTestStore, STORE_KINDS, throttled } from '../helpers/rate-limit.js'

const token = (app: FastifyInstance, username: string, password: string, ip = '203.0.113.1') =>
  app.inject({
    method: 'POST',
    url: '/api/v1/auth/token',
    remoteAddress: ip,
    ...form({ username, password }),
  })

const jsonLogin = (app: FastifyInstance, email: string, password: string, ip = '203.0.113.1') =>
  app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    remoteAddress: ip,
    payload: { email, password },
  })

async function fail(app: FastifyInstance, login: string, times: number, ip = '203.0.113.1') {
  const statuses = []
  for (let i = 0; i < times; i++)
    statuses.push((await token(app, login, 'wrong-password', ip)).statusCode)
  return statuses
}

for (const { kind, title, skip } of STORE_KINDS) {
  describe.skipIf(skip)(`login throttling, ${title}`, () => {
    const setup = (rules = {}) =>
      buildTestApp(throttled(rules), { rateLimitStore: createTestStore(kind) })

    it('answers 429 with an integer Retry-After after 5 failures, even to the right password', async () => {
      const { app } = await setup()
      const user = await createUser(app)
      expect(await fail(app, user.email, 5)).toEqual([400, 400, 400, 400, 400])

      const res = await token(app, user.email, user.password)
      expect(res.statusCode).toBe(429)
      expect(res.headers['retry-after']).toBe('30')
      expect(res.json()).toEqual({ detail: 'Too many requests' })
      expect(res.headers['www-authenticate']).toBeUndefined()

      const viaJson = await jsonLogin(app, user.email, user.password)
      expect(viaJson.statusCode).toBe(429)
      expect(viaJson.json()).toEqual({ detail: 'Too many requests' })
      expect(Number(viaJson.headers['retry-after'])).toBeGreaterThanOrEqual(1)
    })

    it('doubles the delay after each further failure, up to the maximum', async () => {
      const { app, clock } = await setup({ baseDelaySeconds: 10, maxDelaySeconds: 25 })
      const user = await createUser(app)
      await fail(app, user.email, 5)
      const retryAfters = []
      for (let i = 0; i < 3; i++) {
        const wait = Number((await token(app, user.email, 'x')).headers['retry-after'])
        retryAfters.push(wait)
        clock.advanceSeconds(wait)
        expect((await token(app, user.email, 'wrong-password')).statusCode).toBe(400)
      }
      expect(retryAfters).toEqual([10, 20, 25])
      clock.advanceSeconds(25)
      expect((await token(app, user.email, user.password)).statusCode).toBe(200)
    })

    it('a flood from one address does not lock the owner out from another', async () => {
      const { app } = await setup()
      const user = await createUser(app)
      const flood = await fail(app, user.email, 30, '198.51.100.66')
      expect(flood.filter((s) => s === 429)).toHaveLength(25)
      expect((await token(app, user.email, user.password, '203.0.113.50')).statusCode).toBe(200)
    })

    it('stops every client at the per-account ceiling until the hour is over', async () => {
      const { app, clock } = await setup({ accountFailuresPerHour: 8 })
      const user = await createUser(app)
      for (let i = 1; i <= 8; i++) await fail(app, user.email, 1, `198.51.100.${i}`)
      const res = await token(app, user.email, user.password, '203.0.113.99')
      expect(res.statusCode).toBe(429)
      expect(Number(res.headers['retry-after'])).toBe(3600)
      clock.advanceSeconds(3600)
      expect((await token(app, user.email, user.password, '203.0.113.99')).statusCode).toBe(200)
    })

    it('successful logins do not eat into the per-account ceiling', async () => {
      const { app } = await setup({ accountFailuresPerHour: 3 })
      const user = await createUser(app)
      for (let i = 0; i < 6; i++) {
        expect((await token(app, user.email, user.password)).statusCode).toBe(200)
      }
    })

    it('a success resets the count of that account and client', async () => {
      const { app } = await setup()
      const user = await createUser(app)
      await fail(app, user.email, 4)
      expect((await token(app, user.email, user.password)).statusCode).toBe(200)
      expect(await fail(app, user.email, 5)).toEqual([400, 400, 400, 400, 400])
      expect((await token(app, user.email, user.password)).statusCode).toBe(429)
    })

    it('throttles unknown accounts exactly like known ones, by normalized login', async () => {
      const { app } = await setup()
      const ghost = randomEmail()
      await fail(app, ghost, 3)
      await fail(app, ` ${ghost.toUpperCase()} `, 2)
      const res = await token(app, ghost, 'anything')
      expect(res.statusCode).toBe(429)
      expect(res.headers['retry-after']).toBe('30')

      const user = await createUser(app, { username: 'Known_User' })
      await fail(app, 'known_user', 5)
      expect((await token(app, 'KNOWN_USER', user.password)).statusCode).toBe(429)
    })

    it('counts a burst of parallel guesses atomically', async () => {
      const { app } = await setup()
      const user = await createUser(app)
      const burst = await Promise.all(
        Array.from({ length: 15 }, () => token(app, user.email, 'wrong-password')),
      )
      expect(burst.filter((r) => r.statusCode === 400)).toHaveLength(5)
      expect(burst.filter((r) => r.statusCode === 429)).toHaveLength(10)
    })
  })
}

describe('RATE_LIMIT=off', () => {
  it('is read from the environment, and on by default', () => {
    expect(loadConfig({ RATE_LIMIT: 'off' }).rateLimit.enabled).toBe(false)
    expect(loadConfig({}).rateLimit.enabled).toBe(true)
  })

  it('disables every throttle', async () => {
    const off = throttled({ clientRequestsPerMinute: 2 }).rateLimit!
    const { app } = await buildTestApp({ rateLimit: { ...off, enabled: false } })
    const user = await createUser(app)
    expect(await fail(app, user.email, 10)).toEqual(new Array(10).fill(400))
    expect((await token(app, user.email, user.password)).statusCode).toBe(200)
  })
})
