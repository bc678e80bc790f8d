import type { FastifyInstance } from 'fastify'
import { describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { createUser, form, loginAs, randomEmail, strongPassword } from '../helpers/factories.js'
import { createTestStore, STORE_KINDS, throttled } from '../helpers/rate-limit.js'

const token = (app: FastifyInstance, username: string, password: string, ip = '203.0.113.1') =>
  app.inject({
    method: 'POST',
    url: '/api/v1/auth/token',
    remoteAddress: ip,
    ...form({ username, password }),
  })

const signup = (app: FastifyInstance, email: string, ip = '203.0.113.1') =>
  app.inject({
    method: 'POST',
    url: '/api/v1/auth/signup',
    remoteAddress: ip,
    payload: { email, password: strongPassword() },
  })

for (const { kind, title, skip } of STORE_KINDS) {
  describe.skipIf(skip)(`per-client throttling, ${title}`, () => {
    const setup = (rules = {}) =>
      buildTestApp(throttled(rules), { rateLimitStore: createTestStore(kind) })

    it('limits requests per client over the flagged auth endpoints, per minute', async () => {
      const { app, clock } = await setup({ clientRequestsPerMinute: 3 })
      const user = await createUser(app, {}) // from the default inject address
      const ip = '198.51.100.7'
      expect((await token(app, user.email, user.password, ip)).statusCode).toBe(200)
      expect((await signup(app, randomEmail(), ip)).statusCode).toBe(201)
      const login = { method: 'POST' as const, url: '/api/v1/auth/login', remoteAddress: ip }
      expect((await app.inject({ ...login, payload: { email: 'a@b.c' } })).statusCode).toBe(422)

      const limited = await signup(app, randomEmail(), ip)
      expect(limited.statusCode).toBe(429)
      expect(limited.json()).toEqual({ detail: 'Too many requests' })
      expect(Number(limited.headers['retry-after'])).toBe(60)
      const onToken = await token(app, user.email, user.password, ip)
      expect(onToken.statusCode).toBe(429)
      expect(onToken.json()).toEqual({ detail: 'Too many requests' })
      expect(onToken.headers['retry-after']).toBe('60')

      // Other clients and unflagged routes are not affected.
      expect((await token(app, user.email, user.password, '198.51.100.8')).statusCode).toBe(200)
      expect(
        (await app.inject({ method: 'GET', url: '/healthz', remoteAddress: ip })).statusCode,
      ).toBe(200)

      clock.advanceSeconds(60)
      expect((await token(app, user.email, user.password, ip)).statusCode).toBe(200)
    })

    it('limits signups answered 409 per client; successful signups do not count', async () => {
      const { app, clock } = await setup({ signupConflictsPerHour: 2 })
      for (let i = 0; i < 3; i++) expect((await signup(app, randomEmail())).statusCode).toBe(201)
      const taken = randomEmail()
      await signup(app, taken, '192.0.2.1')
      expect((await signup(app, taken)).statusCode).toBe(409)
      expect((await signup(app, taken.toUpperCase())).statusCode).toBe(409)
      const res = await signup(app, randomEmail())
      expect(res.statusCode).toBe(429)
      expect(Number(res.headers['retry-after'])).toBe(3600)
      expect((await signup(app, randomEmail(), '192.0.2.2')).statusCode).toBe(201)
      clock.advanceSeconds(3600)
      expect((await signup(app, randomEmail())).statusCode).toBe(201)
    })

    it('groups IPv6 clients by /64 and IPv4-mapped addresses with IPv4', async () => {
      const { app } = await setup()
      const user = await createUser(app)
      for (let i = 0; i < 5; i++) await token(app, user.email, 'wrong', `2001:db8:1:2::${i + 1}`)
      expect((await token(app, user.email, user.password, '2001:db8:1:2:ffff::9')).statusCode).toBe(
        429,
      )
      expect((await token(app, user.email, user.password, '2001:db8:1:3::1')).statusCode).toBe(200)

      const other = await createUser(app)
      for (let i = 0; i < 5; i++) await token(app, other.email, 'wrong', '::ffff:192.0.2.9')
      expect((await token(app, other.email, other.password, '192.0.2.9')).statusCode).toBe(429)
    })
  })
}

describe('client address behind a proxy (TRUST_PROXY)', () => {
  /** Logs a new user in through `remoteAddress` with an X-Forwarded-For; the session's recorded IP. */
  async function seenIp(test: TestApp, remoteAddress: string, xff: string) {
    const user = await createUser(test.app)
    const res = await test.app.inject({
      method: 'POST',
      url: '/api/v1/auth/token',
      remoteAddress,
      payload: new URLSearchParams({ username: user.email, password: user.password }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': xff },
    })
    expect(res.statusCode).toBe(200)
    const row = await test.database.db
      .selectFrom('sessions')
      .select('ip')
      .where('user_id', '=', user.id)
      .executeTakeFirstOrThrow()
    return row.ip
  }

  it('ignores X-Forwarded-For by default', async () => {
    const test = await buildTestApp()
    expect(await seenIp(test, '10.0.0.1', '192.0.2.77')).toBe('10.0.0.1')
  })

  it('believes X-Forwarded-For only from the listed proxies', async () => {
    const test = await buildTestApp({ trustProxy: ['10.0.0.1', '10.1.0.0/16'] })
    expect(await seenIp(test, '10.0.0.1', '192.0.2.77')).toBe('192.0.2.77')
    expect(await seenIp(test, '10.1.2.3', '203.0.113.5, 192.0.2.78')).toBe('192.0.2.78')
    expect(await seenIp(test, '10.0.0.2', '192.0.2.79')).toBe('10.0.0.2')
  })

  it('throttles a spoofed X-Forwarded-For from an untrusted peer by the peer', async () => {
    const { app } = await buildTestApp(throttled({}, { trustProxy: ['10.0.0.1'] }))
    const user = await createUser(app)
    const attempt = (password: string, xff: string) =>
      app.inject({
        method: 'POST',
        url: '/api/v1/auth/token',
        remoteAddress: '10.9.9.9',
        payload: new URLSearchParams({ username: user.email, password }).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': xff },
      })
    for (let i = 0; i < 5; i++) await attempt('wrong', `192.0.2.${i}`)
    expect((await attempt(user.password, '192.0.2.200')).statusCode).toBe(429)
    await loginAs(app, user) // another client is unaffected
  })
})
