import type { InjectOptions, LightMyRequestResponse } from 'fastify'
import { describe, expect, it } from 'vitest'
import { BODY_LIMIT } from '../../src/app.js'
import { buildTestApp } from '../helpers/app.js'
import { createUser, form, loginAs } from '../helpers/factories.js'
import { throttled } from '../helpers/rate-limit.js'

function expectSecurityHeaders(res: LightMyRequestResponse, what: string) {
  const h = res.headers
  const page = String(h['content-type']).startsWith('text/html')
  expect(h['x-content-type-options'], what).toBe('nosniff')
  expect(h['x-frame-options'], what).toBe(page ? 'SAMEORIGIN' : 'DENY')
  expect(h['referrer-policy'], what).toBe('no-referrer')
  expect(h['strict-transport-security'], what).toMatch(/max-age=\d+/)
  expect(h['cross-origin-resource-policy'], what).toBe('same-origin')
  const csp = String(h['content-security-policy'])
  if (page) {
    expect(csp, what).toMatch(/default-src 'self'/)
    expect(csp, what).toMatch(/object-src 'none'/)
    expect(h['cross-origin-opener-policy'], what).toBe('same-origin')
  } else {
    expect(csp, what).toBe("default-src 'none'; frame-ancestors 'none'")
  }
  expect(csp, what).not.toMatch(/upgrade-insecure-requests/)
  expect(h['x-request-id'], what).toMatch(/^[A-Za-z0-9._:-]{1,128}$/)
}

describe('security headers', () => {
  it('are on every response: success, every error status, and the docs', async () => {
    const { app, database } = await buildTestApp(throttled({ clientRequestsPerMinute: 1 }))
    const cases: [string, InjectOptions, number][] = [
      ['health', { method: 'GET', url: '/healthz' }, 200],
      ['docs', { method: 'GET', url: '/docs' }, 200],
      ['openapi', { method: 'GET', url: '/openapi.json' }, 200],
      ['not found', { method: 'GET', url: '/nope' }, 404],
      ['wrong method', { method: 'PUT', url: '/healthz' }, 405],
      ['no bearer', { method: 'GET', url: '/api/v1/users/me' }, 401],
      [
        'bad bearer',
        { method: 'GET', url: '/api/v1/users/me', headers: { authorization: 'Bearer x' } },
        401,
      ],
      ['bad id', { method: 'GET', url: '/api/v1/posts/not-a-uuid' }, 422],
      [
        'token',
        {
          method: 'POST',
          url: '/api/v1/auth/token',
          ...form({ username: 'a@b.c', password: 'x' }),
        },
        400,
      ],
      [
        'throttled',
        { method: 'POST', url: '/api/v1/auth/token', ...form({ username: 'a', password: 'x' }) },
        429,
      ],
      [
        'media type',
        {
          method: 'POST',
          url: '/api/v1/auth/login',
          payload: 'x',
          headers: { 'content-type': 'text/xml' },
        },
        415,
      ],
      [
        'too large',
        { method: 'POST', url: '/api/v1/auth/signup', payload: { email: 'x'.repeat(BODY_LIMIT) } },
        413,
      ],
    ]
    for (const [i, [what, req, status]] of cases.entries()) {
      // Each case from its own address, but the throttled one follows the token one.
      const res = await app.inject({
        remoteAddress: `198.51.100.${what === 'throttled' ? i - 1 : i}`,
        ...req,
      })
      expect(res.statusCode, what).toBe(status)
      expectSecurityHeaders(res, what)
    }
    // An unexpected failure (the database gone) is a 500 and still carries them.
    await database.db.destroy()
    const broken = await app.inject({ method: 'GET', url: '/api/v1/posts' })
    expect(broken.statusCode).toBe(500)
    expect(broken.json()).toEqual({ detail: 'Internal Server Error' })
    expectSecurityHeaders(broken, '500')
  })
})

describe('body limit', () => {
  it('answers 413 above 64 KiB, in the error shape', async () => {
    const { app } = await buildTestApp()
    const big = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: JSON.stringify({ email: 'a@b.c', password: 'p'.repeat(BODY_LIMIT) }),
      headers: { 'content-type': 'application/json' },
    })
    expect(big.statusCode).toBe(413)
    expect(big.json()).toEqual({ detail: 'Request body too large' })
    const under = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: JSON.stringify({ email: 'a@b.c', password: 'p', pad: 'x'.repeat(BODY_LIMIT - 100) }),
      headers: { 'content-type': 'application/json' },
    })
    expect(under.statusCode).toBe(401)
  })
})

describe('CORS', () => {
  const preflight = (origin: string) => ({
    method: 'OPTIONS' as const,
    url: '/api/v1/auth/token',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type',
    },
  })

  it('allows only the configured origins, on requests and preflights', async () => {
    const { app } = await buildTestApp({ corsOrigins: ['https://app.example'] })
    const ok = await app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { origin: 'https://app.example' },
    })
    expect(ok.headers['access-control-allow-origin']).toBe('https://app.example')
    expect(ok.headers['access-control-expose-headers']).toMatch(/Retry-After/)
    expect(ok.headers.vary).toMatch(/Origin/)

    const pre = await app.inject(preflight('https://app.example'))
    expect(pre.statusCode).toBe(204)
    expect(pre.headers['access-control-allow-origin']).toBe('https://app.example')
    expect(pre.headers['access-control-allow-methods']).toMatch(/POST/)
    expect(String(pre.headers['access-control-allow-headers']).toLowerCase()).toMatch(
      /authorization/,
    )

    for (const origin of ['https://evil.example', 'https://app.example.evil.example', 'null']) {
      const res = await app.inject({ method: 'GET', url: '/healthz', headers: { origin } })
      expect(res.headers['access-control-allow-origin'], origin).toBeUndefined()
      const p = await app.inject(preflight(origin))
      expect(p.headers['access-control-allow-origin'], origin).toBeUndefined()
      expect(p.headers['access-control-allow-credentials'], origin).toBeUndefined()
    }
  })

  it('preflights allow the verbs the API uses, PATCH and DELETE included', async () => {
    const { app } = await buildTestApp({ corsOrigins: ['https://app.example'] })
    for (const method of ['PATCH', 'DELETE']) {
      const pre = await app.inject({
        method: 'OPTIONS',
        url: '/api/v1/posts/00000000-0000-4000-8000-000000000000',
        headers: { origin: 'https://app.example', 'access-control-request-method': method },
      })
      expect(pre.statusCode).toBe(204)
      expect(String(pre.headers['access-control-allow-methods']).split(/,\s*/)).toContain(method)
    }
  })

  it('CORS_ORIGINS=* answers any origin with "*" and never allows credentials', async () => {
    const { app } = await buildTestApp({ corsOrigins: ['*'], corsCredentials: false })
    const res = await app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { origin: 'https://anyone.example' },
    })
    expect(res.headers['access-control-allow-origin']).toBe('*')
    expect(res.headers['access-control-allow-credentials']).toBeUndefined()
  })

  it('allows no origin at all when CORS_ORIGINS is empty', async () => {
    const { app } = await buildTestApp()
    const res = await app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { origin: 'https://app.example' },
    })
    expect(res.headers['access-control-allow-origin']).toBeUndefined()
    const p = await app.inject(preflight('https://app.example'))
    expect(p.headers['access-control-allow-origin']).toBeUndefined()
  })
})

describe('Cache-Control: no-store', () => {
  it('is on every response carrying a token and every answer to a bearer', async () => {
    const { app } = await buildTestApp()
    const user = await createUser(app)
    const { headers } = await loginAs(app, user)
    const responses = [
      await app.inject({
        method: 'POST',
        url: '/api/v1/auth/token',
        ...form({ username: user.email, password: user.password }),
      }),
      await app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { email: user.email, password: user.password },
      }),
      await app.inject({ method: 'GET', url: '/api/v1/users/me', headers }),
      await app.inject({
        method: 'GET',
        url: '/api/v1/users/me',
        headers: { authorization: 'Bearer nope' },
      }),
    ]
    for (const res of responses) {
      expect(res.headers['cache-control'], res.body).toBe('no-store')
      expect(res.headers.pragma, res.body).toBe('no-cache')
    }
  })
})

describe('X-Request-ID', () => {
  it('is generated when absent, kept when sane, replaced when not, and echoed on errors', async () => {
    const { app } = await buildTestApp()
    const generated = await app.inject({ method: 'GET', url: '/healthz' })
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
    const kept = await app.inject({
      method: 'GET',
      url: '/nope',
      headers: { 'x-request-id': 'edge-42.abc:7' },
    })
    expect(kept.statusCode).toBe(404)
    expect(kept.headers['x-request-id']).toBe('edge-42.abc:7')
    for (const bad of ['x'.repeat(129), 'has space', 'new\\nline', '<script>']) {
      const res = await app.inject({
        method: 'GET',
        url: '/healthz',
        headers: { 'x-request-id': bad },
      })
      expect(res.headers['x-request-id'], bad).toMatch(/^[0-9a-f-]{36}$/)
    }
  })
})
