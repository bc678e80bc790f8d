import { describe, expect, it } from 'vitest'
import { ValidationError } from '../../src/errors.js'
import {
  commonPasswordCount,
  createPasswordPolicy,
  isCommonPassword,
} from '../../src/services/accounts/password-policy.js'

function issueOf(fn: () => void) {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError)
    return (err as ValidationError).issues
  }
  return undefined
}

describe('password policy', () => {
  it('bundles at least 10,000 common passwords', () => {
    expect(commonPasswordCount()).toBeGreaterThanOrEqual(10_000)
  })

  it('finds common passwords case-insensitively, and not others', () => {
    for (const pw of ['password1', 'PASSWORD1', 'Password1', 'qwertyuiop', 'iloveyou'])
      expect(isCommonPassword(pw), pw).toBe(true)
    for (const pw of ['Pw-7Hq2mZt9xLr', 'correct horse battery staple 42'])
      expect(isCommonPassword(pw), pw).toBe(false)
  })

  it('answers a lookup in well under a millisecond', () => {
    isCommonPassword('warm-up: the list loads once')
    const n = 10_000
    const start = performance.now()
    for (let i = 0; i < n; i++) isCommonPassword(i % 2 ? 'password1' : `Unusual-${i}-pass`)
    const perLookupMs = (performance.now() - start) / n
    // Generous: a Set probe takes about a microsecond; a shared CI core is slow.
    expect(perLookupMs).toBeLessThan(0.1)
  })

  it('says why a password is refused, at the given field', () => {
    const policy = createPasswordPolicy(8)
    expect(issueOf(() => policy.check('Password1', 'new_password'))).toEqual([
      {
        field: 'new_password',
        msg: expect.stringContaining('too common'),
        type: 'value_error',
      },
    ])
    expect(issueOf(() => policy.check('Sh0rt!', 'password'))).toEqual([
      {
        field: 'password',
        msg: 'String should have at least 8 characters',
        type: 'string_too_short',
      },
    ])
    expect(issueOf(() => policy.check('x'.repeat(1025), 'password'))?.[0]?.type).toBe(
      'string_too_long',
    )
    expect(issueOf(() => policy.check('x'.repeat(1024), 'password'))).toBeUndefined()
    expect(issueOf(() => policy.check('Pw-7Hq2mZt9xLr', 'password'))).toBeUndefined()
  })

  it('counts characters, not bytes, against the minimum', () => {
    const policy = createPasswordPolicy(8)
    expect(issueOf(() => policy.check('ŁódźŻółw', 'password'))).toBeUndefined()
    expect(issueOf(() => policy.check('🔑🔑🔑🔑🔑🔑🔑', 'password'))?.[0]?.type).toBe(
      'string_too_short',
    )
  })

  it('follows PASSWORD_MIN_LENGTH', () => {
    const policy = createPasswordPolicy(15)
    expect(issueOf(() => policy.check('Pw-7Hq2mZt9xLr', 'password'))?.[0]?.msg).toBe(
      'String should have at least 15 characters',
    )
  })
})
