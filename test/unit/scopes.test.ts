import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  formatScope,
  grantScope,
  narrowScope,
  SCOPES,
  type Scope,
  scopesUserMayHold,
  tokenScope,
} from '../../src/domain/scopes.js'
import { KeygateError } from '../../src/errors.js'

const USER = scopesUserMayHold({ is_superuser: false })
const ROOT = scopesUserMayHold({ is_superuser: true })

const invalidScope = (f: () => unknown) => {
  try {
    f()
  } catch (err) {
    return err instanceof KeygateError && err.code === 'INVALID_SCOPE'
  }
  return false
}

describe('scope rules (SPEC §6)', () => {
  it('a user may hold everything but admin; a superuser everything', () => {
    expect(USER).toEqual(['openid', 'profile', 'email', 'offline_access', 'posts:write', 'account'])
    expect(ROOT).toEqual([...SCOPES])
  })

  it('grantScope: nothing asked is everything allowed; asked is intersected; unknown refused', () => {
    expect(grantScope({ requested: undefined, userMay: USER })).toEqual(USER)
    expect(grantScope({ requested: '  ', userMay: ROOT })).toEqual(ROOT)
    expect(grantScope({ requested: 'admin openid', userMay: USER })).toEqual(['openid'])
    expect(
      grantScope({
        requested: 'openid email posts:write',
        userMay: USER,
        clientAllows: ['openid', 'email', 'profile'],
        consented: ['openid', 'posts:write'],
      }),
    ).toEqual(['openid'])
    expect(grantScope({ requested: undefined, userMay: ROOT, clientAllows: ['openid'] })).toEqual([
      'openid',
    ])
    expect(invalidScope(() => grantScope({ requested: 'openid nope', userMay: ROOT }))).toBe(true)
    expect(invalidScope(() => grantScope({ requested: 'admin', userMay: USER }))).toBe(true)
  })

  it('grantScope never gives more than requested ∩ user ∩ client ∩ consent (fast-check)', () => {
    const subset = fc.subarray([...SCOPES])
    fc.assert(
      fc.property(
        fc.option(subset, { nil: undefined }),
        fc.boolean(),
        fc.option(subset, { nil: undefined }),
        fc.option(subset, { nil: undefined }),
        (requested, superuser, clientAllows, consented) => {
          const userMay = scopesUserMayHold({ is_superuser: superuser })
          const input = { requested: requested?.join(' '), userMay, clientAllows, consented }
          let granted: Scope[]
          try {
            granted = grantScope(input)
          } catch (err) {
            // Refused only when something was asked and none of it can be granted.
            expect((err as KeygateError).code).toBe('INVALID_SCOPE')
            expect(requested?.length).toBeGreaterThan(0)
            return
          }
          for (const s of granted) {
            expect(userMay).toContain(s)
            if (requested?.length) expect(requested).toContain(s)
            if (clientAllows) expect(clientAllows).toContain(s)
            if (consented) expect(consented).toContain(s)
          }
          if (!superuser) expect(granted).not.toContain('admin')
        },
      ),
      { numRuns: 500 },
    )
  })

  it('narrowScope narrows and never widens (RFC 6749 §6)', () => {
    expect(narrowScope(undefined, ['openid', 'email'])).toEqual(['openid', 'email'])
    expect(narrowScope('email', ['openid', 'email'])).toEqual(['email'])
    expect(invalidScope(() => narrowScope('email account', ['openid', 'email']))).toBe(true)
    fc.assert(
      fc.property(fc.subarray([...SCOPES]), fc.subarray([...SCOPES]), (granted, asked) => {
        const widens = asked.some((s) => !granted.includes(s))
        const f = () => narrowScope(asked.join(' '), granted)
        if (widens) expect(invalidScope(f)).toBe(true)
        else expect(f()).toEqual(asked.length ? formatScope(asked).split(' ') : granted)
      }),
    )
  })

  it('tokenScope: no claim is all the user may hold; a claim is cut to it', () => {
    expect(tokenScope(undefined, { is_superuser: true })).toEqual(ROOT)
    expect(tokenScope(null, { is_superuser: false })).toEqual(USER)
    expect(tokenScope('admin openid', { is_superuser: false })).toEqual(['openid'])
    expect(tokenScope('', { is_superuser: true })).toEqual([])
    expect(tokenScope('bogus email', { is_superuser: true })).toEqual(['email'])
  })
})
