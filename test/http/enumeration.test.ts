import { randomUUID } from 'node:crypto'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config.js'
import { createUsersRepo } from '../../src/repos/accounts/users.js'
import passlibUsers from '../fixtures/passlib-users.json' with { type: 'json' }
import { buildTestApp } from '../helpers/app.js'
import { createUser, form, randomEmail } from '../helpers/factories.js'
import { must } from '../helpers/must.js'
import { throttled } from '../helpers/rate-limit.js'

/** Everything a client can observe but the per-request id and clock. */
function observable(res: LightMyRequestResponse) {
  const { 'x-request-id': _id, date: _date, ...headers } = res.headers
  return { status: res.statusCode, body: res.body, headers }
}

const token = (app: FastifyInstance, username: string, password: string) =>
  app.inject({ method: 'POST', url: '/api/v1/auth/token', ...form({ username, password }) })

const jsonLogin = (app: FastifyInstance, body: Record<string, string>) =>
  app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: body })

describe('enumeration: unknown account vs wrong password', () => {
  it('the token endpoint answers identically', async () => {
    const { app } = await buildTestApp()
    const user = await createUser(app, { username: 'real_user' })
    const wrong = await token(app, user.email, 'not-the-password')
    const unknown = await token(app, randomEmail(), 'not-the-password')
    expect(wrong.statusCode).toBe(400)
    expect(wrong.json()).toEqual({
      error: 'invalid_grant',
      error_description: 'Invalid credentials',
      detail: 'Invalid credentials',
    })
    expect(observable(unknown)).toEqual(observable(wrong))
    const byName = await token(app, 'real_user', 'not-the-password')
    const unknownName = await token(app, 'ghost_user', 'not-the-password')
    expect(observable(byName)).toEqual(observable(wrong))
    expect(observable(unknownName)).toEqual(observable(wrong))
  })

  it('the JSON login answers identically', async () => {
    const { app } = await buildTestApp()
    const user = await createUser(app, { username: 'real_user' })
    const wrong = await jsonLogin(app, { email: user.email, password: 'not-the-password' })
    const unknown = await jsonLogin(app, { email: randomEmail(), password: 'not-the-password' })
    expect(wrong.statusCode).toBe(401)
    expect(wrong.json()).toEqual({ detail: 'Invalid credentials' })
    expect(wrong.headers['www-authenticate']).toBe('Bearer realm="keygate"')
    expect(observable(unknown)).toEqual(observable(wrong))
    const unknownName = await jsonLogin(app, { username: 'ghost', password: 'not-the-password' })
    expect(observable(unknownName)).toEqual(observable(wrong))
  })

  it('throttling answers identically too', async () => {
    const { app } = await buildTestApp(throttled())
    const user = await createUser(app)
    const ghost = randomEmail()
    for (let i = 0; i < 5; i++) {
      await token(app, user.email, 'wrong')
      await token(app, ghost, 'wrong')
    }
    const known = await token(app, user.email, 'wrong')
    const unknown = await token(app, ghost, 'wrong')
    expect(known.statusCode).toBe(429)
    expect(observable(unknown)).toEqual(observable(known))
  })

  it('signup is the documented exception: a taken email is a 409', async () => {
    const { app } = await buildTestApp()
    const user = await createUser(app)
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/signup',
      payload: { email: user.email.toUpperCase(), password: 'another-Passw0rd' },
    })
    expect(res.statusCode).toBe(409)
    expect(res.json()).toEqual({ detail: 'Email already registered' })
  })
})

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return must(s[Math.floor(s.length / 2)], 'a sample')
}

describe('enumeration by timing', () => {
  it('an unknown account takes as long as a wrong password (production Argon2id)', async () => {
    const production = loadConfig({}).argon2
    expect(production).toEqual({ memoryCost: 19456, timeCost: 2, parallelism: 1 })
    const { app } = await buildTestApp({ argon2: production, hashConcurrency: 1 })
    const user = await createUser(app)
    const time = async (login: string) => {
      const start = process.hrtime.bigint()
      const res = await token(app, login, 'not-the-password')
      expect(res.statusCode).toBe(400)
      return Number(process.hrtime.bigint() - start) / 1e6
    }
    // Warm up both paths (the dummy hash is made on first use).
    await time(randomEmail())
    await time(user.email)
    const known: number[] = []
    const unknown: number[] = []
    for (let i = 0; i < 15; i++) {
      known.push(await time(user.email))
      unknown.push(await time(randomEmail()))
    }
    const ratio = median(unknown) / median(known)
    expect(ratio, `unknown ${median(unknown)} ms, known ${median(known)} ms`).toBeGreaterThan(0.5)
    expect(ratio, `unknown ${median(unknown)} ms, known ${median(known)} ms`).toBeLessThan(2)
    // The check is meaningful only if a verification dominates the request.
    expect(median(known)).toBeGreaterThan(5)
  })
})

describe('enumeration by timing, imported hashes', () => {
  it('an imported bcrypt-12 account not yet upgraded takes as long as an unknown one', async () => {
    const { app, database } = await buildTestApp({ argon2: loadConfig({}).argon2 })
    // A cost-12 bcrypt hash as passlib wrote it: several times an Argon2id check.
    const fixture = passlibUsers.find((u) => u.hashed_password.startsWith('$2b$12$'))!
    await createUsersRepo(database.db).insert({
      id: randomUUID(),
      email: fixture.email,
      username: null,
      hashed_password: fixture.hashed_password,
      is_active: true,
      is_superuser: false,
      created_at: new Date(),
    })
    const time = async (login: string) => {
      const start = process.hrtime.bigint()
      const res = await token(app, login, 'not-the-password')
      expect(res.statusCode).toBe(400)
      return Number(process.hrtime.bigint() - start) / 1e6
    }
    await time(fixture.email)
    const known: number[] = []
    const unknown: number[] = []
    for (let i = 0; i < 7; i++) {
      known.push(await time(fixture.email))
      unknown.push(await time(randomEmail()))
    }
    const ratio = median(unknown) / median(known)
    const detail = `unknown ${median(unknown)} ms, bcrypt account ${median(known)} ms`
    expect(ratio, detail).toBeGreaterThan(0.6)
    expect(ratio, detail).toBeLessThan(1.7)
  })
})
