import { describe, expect, it } from 'vitest'
import { getsRefreshToken } from '../../src/domain/consent.js'

describe('refresh tokens after consent (OIDC Core §11)', () => {
  const refreshing = ['authorization_code', 'refresh_token']
  it('a third-party client gets one only with offline_access granted', () => {
    const third = { first_party: false, grant_types: refreshing }
    expect(getsRefreshToken(third, ['openid', 'offline_access'])).toBe(true)
    expect(getsRefreshToken(third, ['openid', 'email'])).toBe(false)
    expect(getsRefreshToken(third, [])).toBe(false)
  })

  it('a first-party client gets one without offline_access; no client without the grant type', () => {
    expect(getsRefreshToken({ first_party: true, grant_types: refreshing }, ['openid'])).toBe(true)
    const noRefresh = ['authorization_code']
    expect(getsRefreshToken({ first_party: true, grant_types: noRefresh }, ['openid'])).toBe(false)
    expect(
      getsRefreshToken({ first_party: false, grant_types: noRefresh }, ['offline_access']),
    ).toBe(false)
  })
})
