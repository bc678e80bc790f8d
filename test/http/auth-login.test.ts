import { decodeJwt } from 'jose'
import { describe, expect, it } from 'vitest'
import { buildTestApp } from '../helpers/app.js'
import { createUser, form } from '../helpers/factories.js'
import { must } from '../helpers/must.js'

const CHALLENGE = 'Bearer realm="keygate"'
const url = '/api/v1/auth/login'

describe('POST /api/v1/auth/login', () => {
  it('accepts JSON {email,password}, JSON {username,password} and a form', async () => {
    const { app } = await buildTestApp()
    const user = await createUser(app, { username: 'erin.b' })
    const requests = [
      { method: 'POST' as const, url, payload: { email: user.email, password: user.password } },
      { method: 'POST' as const, url, payload: { username: 'ERIN.B', password: user.password } },
      { method: 'POST' as const, url, ...form({ username: user.email, password: user.password }) },
      {
        method: 'POST' as const,
        url,
        payload: { email: `  ${user.email.toUpperCase()} `, password: user.password },
      },
    ]
    for (const req of requests) {
      const res = await app.inject(req)
      expect(res.statusCode, res.body).toBe(200)
      const body = res.json()
      expect(body.token_type).toBe('bearer')
      expect(body.expires_in).toBe(1800)
      expect(typeof body.refresh_token).toBe('string')
      expect(decodeJwt(body.access_token).sub).toBe(user.id)
      expect(res.headers['cache-control']).toBe('no-store')
      expect(res.headers.pragma).toBe('no-cache')
    }
  })

  it('401 Invalid credentials with a Bearer challenge, identical for unknown and wrong', async () => {
    const { app } = await buildTestApp()
    const user = await createUser(app)
    const results = []
    for (const payload of [
      { email: 'nobody@example.com', password: 'whatever-1' },
      { email: user.email, password: 'whatever-1' },
      { username: 'nobody', password: 'whatever-1' },
    ]) {
      const res = await app.inject({ method: 'POST', url, payload })
      expect(res.statusCode).toBe(401)
      expect(res.body).toBe('{"detail":"Invalid credentials"}')
      expect(res.headers['www-authenticate']).toBe(CHALLENGE)
      results.push(res)
    }
    const names = (h: Record<string, unknown>) =>
      Object.keys(h)
        .filter((k) => !['x-request-id', 'date'].includes(k))
        .sort()
    expect(names(must(results[0]).headers)).toEqual(names(must(results[1]).headers))
  })

  it('a form with bad credentials also answers the JSON login way (401)', async () => {
    const { app } = await buildTestApp()
    const res = await app.inject({
      method: 'POST',
      url,
      ...form({ username: 'nobody@example.com', password: 'whatever-1' }),
    })
    expect(res.statusCode).toBe(401)
    expect(res.json()).toEqual({ detail: 'Invalid credentials' })
  })

  it('422 when neither email nor username, or no password; never echoes values', async () => {
    const { app } = await buildTestApp()
    for (const payload of [
      { password: 'hidden-pass-1' },
      { email: 'hidden@example.com' },
      {},
      { email: 42, password: 'hidden-pass-1' },
      { email: 'hidden@example.com', password: 12345678 },
    ]) {
      const res = await app.inject({ method: 'POST', url, payload })
      expect(res.statusCode, JSON.stringify(payload)).toBe(422)
      expect(Array.isArray(res.json().detail)).toBe(true)
      expect(res.body).not.toContain('hidden')
    }
  })
})
