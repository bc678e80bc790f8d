import { describe, expect, it } from 'vitest'
import { ERRORS, type ErrorName, type ErrorSpec, KeygateError } from '../../src/errors.js'

const entries = Object.entries(ERRORS) as [ErrorName, ErrorSpec][]

describe('the error table', () => {
  it('has a 4xx/5xx status and a non-empty detail for every entry', () => {
    expect(entries.length).toBeGreaterThan(10)
    for (const [name, spec] of entries) {
      expect(spec.status, name).toBeGreaterThanOrEqual(400)
      expect(spec.status, name).toBeLessThan(600)
      expect(spec.detail.trim().length, name).toBeGreaterThan(0)
      expect(spec.detail, name).not.toMatch(/\n/)
    }
  })

  it('gives every 401 a Bearer challenge, and nothing else one', () => {
    for (const [name, spec] of entries) {
      const challenge = spec.headers?.['WWW-Authenticate']
      if (spec.status === 401) expect(challenge, name).toMatch(/^Bearer realm="keygate"/)
      else expect(challenge, name).toBeUndefined()
      expect(String(challenge ?? ''), name).not.toMatch(/basic/i)
    }
  })

  it('holds the exact SPEC wire texts', () => {
    expect(ERRORS.NOT_AUTHENTICATED).toMatchObject({
      status: 401,
      detail: 'Not authenticated',
      headers: { 'WWW-Authenticate': 'Bearer realm="keygate"' },
    })
    expect(ERRORS.INVALID_TOKEN).toMatchObject({
      status: 401,
      detail: 'Could not validate credentials',
      headers: { 'WWW-Authenticate': 'Bearer realm="keygate", error="invalid_token"' },
    })
    expect(ERRORS.INVALID_CREDENTIALS).toMatchObject({ status: 401, detail: 'Invalid credentials' })
    // RFC 6749 §5.2: no challenge on the token endpoint's invalid_grant.
    expect(ERRORS.INVALID_GRANT).toEqual({
      status: 400,
      detail: 'Invalid credentials',
      oauthError: 'invalid_grant',
    })
    expect(ERRORS.UNSUPPORTED_GRANT_TYPE).toMatchObject({
      status: 400,
      oauthError: 'unsupported_grant_type',
    })
    expect(ERRORS.INVALID_SCOPE).toMatchObject({ status: 400, oauthError: 'invalid_scope' })
    expect(ERRORS.INACTIVE_USER).toEqual({ status: 403, detail: 'Inactive user' })
    expect(ERRORS.EMAIL_TAKEN).toEqual({ status: 409, detail: 'Email already registered' })
    expect(ERRORS.USERNAME_TAKEN).toEqual({ status: 409, detail: 'Username already taken' })
    expect(ERRORS.NOT_FOUND).toEqual({ status: 404, detail: 'Not Found' })
    expect(ERRORS.METHOD_NOT_ALLOWED).toEqual({ status: 405, detail: 'Method Not Allowed' })
    expect(ERRORS.INVALID_REFRESH_TOKEN).toMatchObject({ detail: 'Invalid refresh token' })
    expect(ERRORS.INVALID_RESET_TOKEN).toMatchObject({ detail: 'Invalid or expired token' })
  })

  it('oauthError codes are RFC 6749 §5.2 codes on 400s', () => {
    const codes = ['invalid_request', 'invalid_grant', 'unsupported_grant_type', 'invalid_scope']
    for (const [name, spec] of entries) {
      if (spec.oauthError === undefined) continue
      expect(codes, name).toContain(spec.oauthError)
      expect(spec.status, name).toBe(400)
    }
  })

  it('KeygateError copies its entry and allows extra headers', () => {
    for (const [name, spec] of entries) {
      const err = new KeygateError(name)
      expect(err).toBeInstanceOf(Error)
      expect(err.code).toBe(name)
      expect(err.statusCode).toBe(spec.status)
      expect(err.detail).toBe(spec.detail)
      expect(err.message).toBe(spec.detail)
      expect(err.oauthError).toBe(spec.oauthError)
      expect(err.headers).toEqual({ ...spec.headers })
    }
    const limited = new KeygateError('RATE_LIMITED', { headers: { 'Retry-After': '60' } })
    expect(limited.headers).toEqual({ 'Retry-After': '60' })
    expect(ERRORS.RATE_LIMITED.status).toBe(429)
  })
})
