import type { FastifyInstance } from 'fastify'
import { describe, expect, it } from 'vitest'
import { buildTestApp } from '../helpers/app.js'
import { createUser, form, loginAs } from '../helpers/factories.js'
import { createTestStore, STORE_KINDS, throttled } from '../helpers/rate-limit.js'

// Issue 14, medium 2: every password check is throttled per account, whatever
// spelling of the login was typed, and behind the bearer too.

const token = (app: FastifyInstance, username: string, password: string, ip = '203.0.113.1') =>
  app.inject({
    method: 'POST',
    url: '/api/v1/auth/token',
    remoteAddress: ip,
    ...form({ username, password }),
  })

type Check = (
  app: FastifyInstance,
  headers: Record<string, string>,
  password: string,
) => Promise<Awaited<ReturnType<FastifyInstance['inject']>>>

const BEARER_CHECKS: [string, Check][] = [
  [
    'POST /users/me/password',
    (app, headers, password) =>
      app.inject({
        method: 'POST',
        url: '/api/v1/users/me/password',
        remoteAddress: '203.0.113.1',
        headers,
        payload: { current_password: password, new_password: 'an-entirely-new-pass-9' },
      }),
  ],
  [
    'PATCH /users/me (email change)',
    (app, headers, password) =>
      app.inject({
        method: 'PATCH',
        url: '/api/v1/users/me',
        remoteAddress: '203.0.113.1',
        headers,
        payload: { email: 'moved@example.com', current_password: password },
      }),
  ],
  [
    'DELETE /users/me',
    (app, headers, password) =>
      app.inject({
        method: 'DELETE',
        url: '/api/v1/users/me',
        remoteAddress: '203.0.113.1',
        headers,
        payload: { password },
      }),
  ],
]

for (const { kind, title, skip } of STORE_KINDS) {
  describe.skipIf(skip)(`one password budget per account, ${title}`, () => {
    const setup = (rules = {}) =>
      buildTestApp(throttled(rules), { rateLimitStore: createTestStore(kind) })

    it('email, username and case variants share one budget at sign-in', async () => {
      const { app } = await setup({ accountClientFailures: 4 })
      const user = await createUser(app, { username: 'Mixed.Case' })
      const spellings = [user.email, 'mixed.case', user.email.toUpperCase(), 'MIXED.CASE']
      for (const login of spellings) {
        expect((await token(app, login, 'wrong-password')).statusCode).toBe(400)
      }
      const res = await token(app, ` ${user.email.toUpperCase()} `, user.password)
      expect(res.statusCode).toBe(429)
      expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1)
    })

    it('the per-account ceiling counts every spelling too', async () => {
      const { app } = await setup({ accountFailuresPerHour: 4 })
      const user = await createUser(app, { username: 'ceiling' })
      const spellings = [user.email, 'ceiling', 'CEILING', user.email.toUpperCase()]
      for (const [i, login] of spellings.entries()) {
        expect((await token(app, login, 'wrong', `198.51.100.${i}`)).statusCode).toBe(400)
      }
      expect((await token(app, 'Ceiling', user.password, '198.51.100.99')).statusCode).toBe(429)
    })

    for (const [name, check] of BEARER_CHECKS) {
      it(`${name}: 429 with Retry-After after the configured failures, even for the right password`, async () => {
        const { app } = await setup({ accountClientFailures: 3 })
        const user = await createUser(app)
        const { headers } = await loginAs(app, user)
        for (let i = 0; i < 3; i++) {
          const res = await check(app, headers, 'wrong-password')
          expect(res.statusCode, res.body).toBe(400)
          expect(res.json()).toEqual({ detail: 'Incorrect password' })
        }
        const refused = await check(app, headers, user.password)
        expect(refused.statusCode).toBe(429)
        expect(refused.json()).toEqual({ detail: 'Too many requests' })
        expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1)
      })
    }

    it('failures behind the bearer and at sign-in draw on the same budget', async () => {
      const { app } = await setup({ accountClientFailures: 3 })
      const user = await createUser(app)
      const { headers } = await loginAs(app, user)
      const change = BEARER_CHECKS[0]![1]
      for (let i = 0; i < 2; i++) expect((await change(app, headers, 'nope')).statusCode).toBe(400)
      expect((await token(app, user.email, 'nope')).statusCode).toBe(400)
      expect((await token(app, user.email, user.password)).statusCode).toBe(429)
    })

    it('unknown logins are throttled exactly like known ones', async () => {
      const { app } = await setup({ accountClientFailures: 2 })
      const user = await createUser(app)
      const statuses = async (login: string) => {
        const out = []
        for (let i = 0; i < 3; i++) out.push((await token(app, login, 'wrong')).statusCode)
        return out
      }
      expect(await statuses('nobody@example.com')).toEqual(await statuses(user.email))
      // Case variants of an unknown login share a budget as well.
      expect((await token(app, 'NOBODY@example.com', 'wrong')).statusCode).toBe(429)
    })
  })
}
