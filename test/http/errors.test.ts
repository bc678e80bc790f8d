import { describe, expect, it } from 'vitest'
import { buildTestApp } from '../helpers/app.js'
import { createUser, loginAs, randomEmail, strongPassword } from '../helpers/factories.js'

type Res = { statusCode: number; body: string; headers: Record<string, unknown> }

/** Every error is JSON with a `detail`, and never a stack trace or internal text. */
function expectCleanError(res: Res, status?: number) {
  if (status !== undefined) expect(res.statusCode, res.body).toBe(status)
  expect(res.statusCode).toBeGreaterThanOrEqual(400)
  expect(res.statusCode).toBeLessThan(500)
  expect(String(res.headers['content-type'])).toMatch(/^application\/json/)
  const body = JSON.parse(res.body)
  expect(body.detail).toBeDefined()
  expect(res.body).not.toMatch(/at \w+ \(|node_modules|\.ts:\d|stack|Error:|FST_|SQL/i)
  return body
}

const signupUrl = '/api/v1/auth/signup'

describe('error responses', () => {
  it('404 {"detail":"Not Found"} for unknown paths', async () => {
    const { app } = await buildTestApp()
    for (const url of ['/nope', '/api/v1/nope', '/api/v2/posts', '/api/v1/users/me/extra/x']) {
      const res = await app.inject({ method: 'GET', url })
      expectCleanError(res, 404)
      expect(res.body).toBe('{"detail":"Not Found"}')
    }
  })

  it('router-level errors (bad URL encoding, over-long path) keep the detail shape', async () => {
    const { app } = await buildTestApp()
    const badUrl = await app.inject({ method: 'GET', url: '/api/v1/posts/%ZZ' })
    expect(expectCleanError(badUrl, 400)).toEqual({ detail: 'Bad Request' })
    const long = await app.inject({ method: 'GET', url: `/api/v1/posts/${'a'.repeat(5000)}` })
    expect(long.statusCode).toBeGreaterThanOrEqual(400)
    expect(Object.keys(expectCleanError(long))).toEqual(['detail'])
    expect(long.body).not.toContain('aaaa')
  })

  it('405 {"detail":"Method Not Allowed"} with Allow on known paths', async () => {
    const { app } = await buildTestApp()
    const cases: [string, string, string[]][] = [
      ['GET', signupUrl, ['POST']],
      ['DELETE', '/api/v1/auth/token', ['POST']],
      ['POST', '/api/v1/users/me', ['GET']],
      ['PUT', '/api/v1/posts', ['GET', 'POST']],
      ['POST', '/healthz', ['GET']],
    ]
    for (const [method, url, allowed] of cases) {
      const res = await app.inject({ method: method as 'GET', url })
      expectCleanError(res, 405)
      expect(res.json()).toEqual({ detail: 'Method Not Allowed' })
      const allow = String(res.headers.allow).split(/,\s*/)
      for (const m of allowed) expect(allow, `${method} ${url}`).toContain(m)
      expect(allow).not.toContain(method)
    }
  })

  it('413 for bodies over 64 KiB, JSON or form', async () => {
    const { app } = await buildTestApp()
    const big = 'x'.repeat(65 * 1024)
    const json = await app.inject({
      method: 'POST',
      url: signupUrl,
      payload: { email: randomEmail(), password: big },
    })
    expect(expectCleanError(json, 413).detail).toBeTypeOf('string')
    const formRes = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/token',
      payload: `username=a&password=${big}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
    expectCleanError(formRes, 413)
  })

  it('415 for unsupported content types', async () => {
    const { app } = await buildTestApp()
    for (const type of ['text/plain', 'application/xml', 'multipart/form-data; boundary=x']) {
      const res = await app.inject({
        method: 'POST',
        url: signupUrl,
        payload: '<user/>',
        headers: { 'content-type': type },
      })
      expect(expectCleanError(res, 415).detail).toBeTypeOf('string')
    }
  })

  it('malformed JSON is a 4xx with a detail list, never 500', async () => {
    const { app } = await buildTestApp()
    for (const payload of ['{', '{"email":', '{"email": "a@b.c",}', "{'a':1}", 'nul', '\u0000']) {
      const res = await app.inject({
        method: 'POST',
        url: signupUrl,
        payload,
        headers: { 'content-type': 'application/json' },
      })
      const body = expectCleanError(res)
      expect(Array.isArray(body.detail), payload).toBe(true)
    }
  })

  it('an empty JSON body or no body is a 422 list', async () => {
    const { app } = await buildTestApp()
    for (const headers of [{ 'content-type': 'application/json' }, {}]) {
      const res = await app.inject({ method: 'POST', url: signupUrl, payload: '', headers })
      // FastAPI's answer, byte for byte (key order too): the body as a whole is missing.
      expectCleanError(res, 422)
      expect(res.body).toBe('{"detail":[{"loc":["body"],"msg":"Field required","type":"missing"}]}')
    }
    // The same JSON parser serves every route: refresh needs a body as signup does.
    const refresh = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: '',
      headers: { 'content-type': 'application/json' },
    })
    expect(expectCleanError(refresh, 422).detail).toEqual([
      { loc: ['body'], msg: 'Field required', type: 'missing' },
    ])
    const form = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/token',
      payload: '',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
    expect(Array.isArray(expectCleanError(form, 422).detail)).toBe(true)
  })

  it('an empty JSON body is no body: a route that takes none answers as without it', async () => {
    const { app } = await buildTestApp()
    const user = await createUser(app)
    const { headers } = await loginAs(app, user)
    const { headers: other } = await loginAs(app, user)
    const [session] = (
      await app.inject({ method: 'GET', url: '/api/v1/users/me/sessions', headers: other })
    ).json() as { id: string }[]
    const res = await app.inject({
      method: 'DELETE',
      url: `/api/v1/users/me/sessions/${session?.id}`,
      headers: { ...headers, 'content-type': 'application/json' },
      payload: '',
    })
    expect(res.statusCode, res.body).toBe(204)
  })

  it('__proto__ and constructor keys are ignored, not merged', async () => {
    const { app } = await buildTestApp()
    const payload = `{"email":"${randomEmail()}","password":"${strongPassword()}","__proto__":{"is_superuser":true},"constructor":{"prototype":{"is_superuser":true}}}`
    const res = await app.inject({
      method: 'POST',
      url: signupUrl,
      payload,
      headers: { 'content-type': 'application/json' },
    })
    expect(res.statusCode, res.body).toBe(201)
    expect(res.json().is_superuser).toBe(false)
    expect(({} as Record<string, unknown>).is_superuser).toBeUndefined()
    const formRes = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/token',
      payload: '__proto__=x&constructor=y&username=a@b.c&password=zzzzzzzz',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
    expect(formRes.statusCode).toBe(400)
  })

  it('repeated form fields and odd encodings are 4xx, never 500', async () => {
    const { app } = await buildTestApp()
    const user = await createUser(app)
    for (const payload of [
      `username=${user.email}&username=x&password=${user.password}`,
      'username=%ZZ&password=%',
      '&&&=&=',
      'password[]=a&username[]=b',
    ]) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/token',
        payload,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      })
      expect(res.statusCode, payload).toBeGreaterThanOrEqual(400)
      expect(res.statusCode, payload).toBeLessThan(500)
      expect(res.json().detail).toBeDefined()
    }
  })

  it('protected routes answer JSON errors for every bad request shape', async () => {
    const { app } = await buildTestApp()
    const user = await createUser(app)
    const { headers } = await loginAs(app, user)
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/posts',
      headers: { ...headers, 'content-type': 'application/json' },
      payload: '{"title": ',
    })
    expect(Array.isArray(expectCleanError(res).detail)).toBe(true)
    const wrongType = await app.inject({
      method: 'POST',
      url: '/api/v1/posts',
      headers: { ...headers, 'content-type': 'text/plain' },
      payload: 'hello',
    })
    expectCleanError(wrongType, 415)
  })
})
