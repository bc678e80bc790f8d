import { describe, expect, it } from 'vitest'
import {
  CONSENT_REQUEST_SECONDS,
  createConsentRequests,
} from '../../src/services/oidc/consent-requests.js'
import { createTestClock } from '../helpers/clock.js'

const KEY = Buffer.alloc(32, 7)
const SID = '00000000-0000-4000-8000-000000000001'
const PARAMS = { client_id: ['acme'], scope: ['openid email'], state: ['s t&é'] }

describe('sealed consent requests', () => {
  it('opens for the same browser session while live, with the parameters intact', () => {
    const clock = createTestClock()
    const requests = createConsentRequests(KEY, clock)
    const sealed = requests.seal(PARAMS, SID)
    expect(sealed).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/)
    expect(requests.open(sealed, SID)).toEqual(PARAMS)
    clock.advanceSeconds(CONSENT_REQUEST_SECONDS - 1)
    expect(requests.open(sealed, SID)).toEqual(PARAMS)
    clock.advanceSeconds(1)
    expect(requests.open(sealed, SID)).toBeUndefined()
  })

  it('refuses another session, another key, any change and garbage', () => {
    const clock = createTestClock()
    const requests = createConsentRequests(KEY, clock)
    const sealed = requests.seal(PARAMS, SID)
    expect(requests.open(sealed, SID.replace('1', '2'))).toBeUndefined()
    expect(createConsentRequests(Buffer.alloc(32, 8), clock).open(sealed, SID)).toBeUndefined()
    const [body, tag] = sealed.split('.') as [string, string]
    const forged = Buffer.from(
      JSON.stringify({ p: { ...PARAMS, redirect_uri: ['https://evil.example/'] }, e: 9e9 }),
    ).toString('base64url')
    expect(requests.open(`${forged}.${tag}`, SID)).toBeUndefined()
    expect(requests.open(`${body}.${tag}x`, SID)).toBeUndefined()
    expect(requests.open(`${body}.${tag}.x`, SID)).toBeUndefined()
    for (const junk of [undefined, '', '.', 'a.b', 42, 'x'.repeat(40_000), ['a.b']]) {
      expect(requests.open(junk, SID)).toBeUndefined()
    }
  })
})
