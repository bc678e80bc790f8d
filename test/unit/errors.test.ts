import { describe, expect, it } from 'vitest'
import {
  describeIssue,
  ERRORS,
  type ErrorName,
  type ErrorSpec,
  fieldIssue,
  ISSUES,
  type IssueName,
  KeygateError,
  NOTICES,
  STATUS_TEXT,
  statusText,
  ValidationError,
} from '../../src/errors.js'

const entries = Object.entries(ERRORS) as [ErrorName, ErrorSpec][]
const issues = Object.keys(ISSUES) as IssueName[]

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
      // RFC 6749 §5.2: invalid_client challenges Basic, and only when the client used Basic.
      if (name === 'INVALID_CLIENT') expect(challenge, name).toBeUndefined()
      else if (spec.status === 401) expect(challenge, name).toMatch(/^Bearer realm="keygate"/)
      // RFC 6750 §3.1: a 403 for a missing scope also says why in its challenge.
      else if (name === 'INSUFFICIENT_SCOPE') {
        expect(challenge).toBe('Bearer realm="keygate", error="insufficient_scope"')
      } else expect(challenge, name).toBeUndefined()
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

  it("oauthError codes are RFC 6749 §5.2 codes on 400s (and the inactive account's 403)", () => {
    const codes = ['invalid_request', 'invalid_grant', 'unsupported_grant_type', 'invalid_scope']
    // SPEC §9's one extension code, on the 403 of a correct password that needs a second factor.
    codes.push('mfa_required')
    // RFC 6749 §5.2's client errors; invalid_client is a 401.
    codes.push('invalid_client', 'unauthorized_client')
    for (const [name, spec] of entries) {
      if (spec.oauthError === undefined) continue
      expect(codes, name).toContain(spec.oauthError)
      expect(spec.headers?.['WWW-Authenticate'], name).toBeUndefined()
      // SPEC §3: a deactivated account is 403 on every login endpoint, the token endpoint too.
      const forbidden = name === 'INACTIVE_USER_GRANT' || name === 'MFA_REQUIRED_GRANT'
      expect(spec.status, name).toBe(forbidden ? 403 : name === 'INVALID_CLIENT' ? 401 : 400)
    }
    expect(ERRORS.INACTIVE_USER_GRANT).toEqual({
      status: 403,
      detail: 'Inactive user',
      oauthError: 'invalid_grant',
    })
  })

  it('answers an outage of the database or Redis with 503 and Retry-After', () => {
    expect(ERRORS.SERVICE_UNAVAILABLE).toEqual({
      status: 503,
      detail: 'Service temporarily unavailable',
      headers: { 'Retry-After': '5' },
    })
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

describe('the status texts', () => {
  it("are one line each, the named errors' own where they overlap, and 400 otherwise", () => {
    for (const [status, text] of Object.entries(STATUS_TEXT)) {
      expect(Number(status), text).toBeGreaterThanOrEqual(400)
      expect(Number(status), text).toBeLessThan(500)
      expect(text.trim(), status).toBe(text)
      expect(text.length, status).toBeGreaterThan(0)
    }
    for (const name of ['NOT_FOUND', 'METHOD_NOT_ALLOWED', 'BODY_TOO_LARGE'] as const) {
      expect(statusText(ERRORS[name].status), name).toBe(ERRORS[name].detail)
    }
    expect(statusText(415)).toBe('Unsupported media type')
    expect(statusText(431)).toBe('Request Header Fields Too Large')
    expect(statusText(418)).toBe('Bad Request')
  })
})

describe('the validation issues', () => {
  it('each have a snake_case pydantic type and a one-line message with known placeholders', () => {
    expect(issues.length).toBeGreaterThan(15)
    for (const name of issues) {
      const { type, msg } = ISSUES[name]
      expect(type, name).toMatch(/^[a-z]+(_[a-z]+)*$/)
      expect(msg.trim(), name).toBe(msg)
      expect(msg.length, name).toBeGreaterThan(0)
      expect(msg, name).not.toMatch(/\n/)
      for (const [, key] of msg.matchAll(/\{(\w*)\}/g))
        expect(['limit', 'format'], name).toContain(key)
      // Filled in, no placeholder is left.
      expect(describeIssue(name, { limit: 7, format: 'ipv4' }).msg, name).not.toMatch(/[{}]/)
    }
  })

  it("hold FastAPI's exact wording", () => {
    expect(ISSUES.missing).toEqual({ type: 'missing', msg: 'Field required' })
    expect(ISSUES.jsonInvalid).toEqual({ type: 'json_invalid', msg: 'JSON decode error' })
    expect(describeIssue('tooShort', { limit: 8 })).toEqual({
      type: 'string_too_short',
      msg: 'String should have at least 8 characters',
    })
    expect(describeIssue('tooLong', { limit: 1024 }).msg).toBe(
      'String should have at most 1024 characters',
    )
    expect(describeIssue('otherFormat', { format: 'date-time' }).msg).toBe(
      'Input should be a valid date-time',
    )
    expect(ISSUES.nullCharacter.msg).toBe('String should not contain null characters')
    expect(ISSUES.commonPassword.msg).toMatch(/^Value error, this password is too common/)
  })

  it("reach a service as a field and a reason, without HTTP's loc", () => {
    const err = new ValidationError([fieldIssue('password', 'tooShort', { limit: 12 })])
    expect(err.statusCode).toBe(422)
    expect(err.issues).toEqual([
      {
        field: 'password',
        type: 'string_too_short',
        msg: 'String should have at least 12 characters',
      },
    ])
    expect(err.message).toBe('String should have at least 12 characters')
    expect(err.issues[0]).not.toHaveProperty('loc')
  })
})

describe('the notices', () => {
  it('hold the reset acknowledgement, which never says whether the email has an account', () => {
    expect(NOTICES.RESET_REQUESTED).toBe(
      'If an account uses this email, a password reset link has been sent to it.',
    )
  })
})
