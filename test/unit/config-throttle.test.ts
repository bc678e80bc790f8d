import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../src/config.js'

describe('throttling and proxy settings', () => {
  it('has the documented defaults', () => {
    expect(loadConfig({}).rateLimit).toEqual({
      enabled: true,
      accountClientFailures: 5,
      baseDelaySeconds: 30,
      maxDelaySeconds: 900,
      accountFailuresPerHour: 100,
      clientRequestsPerMinute: 300,
      signupConflictsPerHour: 100,
      resetMailIntervalSeconds: 60,
      resetMailsPerHour: 5,
      postsPerMinute: 120,
    })
    expect(loadConfig({}).trustProxy).toBeUndefined()
    expect(loadConfig({}).redisKeyPrefix).toBe('keygate:')
    expect(loadConfig({ REDIS_KEY_PREFIX: 'kg-eu:' }).redisKeyPrefix).toBe('kg-eu:')
  })

  it('reads every limit from its variable', () => {
    const config = loadConfig({
      RATE_LIMIT: 'off',
      RATE_LIMIT_ACCOUNT_CLIENT_FAILURES: '3',
      RATE_LIMIT_BASE_DELAY_SECONDS: '2',
      RATE_LIMIT_MAX_DELAY_SECONDS: '60',
      RATE_LIMIT_ACCOUNT_FAILURES_PER_HOUR: '50',
      RATE_LIMIT_CLIENT_PER_MINUTE: '1000',
      RATE_LIMIT_SIGNUP_CONFLICTS_PER_HOUR: '7',
      RATE_LIMIT_RESET_MAIL_INTERVAL_SECONDS: '0',
      RATE_LIMIT_RESET_MAILS_PER_HOUR: '2',
      RATE_LIMIT_POSTS_PER_MINUTE: '9',
    })
    expect(config.rateLimit).toEqual({
      enabled: false,
      accountClientFailures: 3,
      baseDelaySeconds: 2,
      maxDelaySeconds: 60,
      accountFailuresPerHour: 50,
      clientRequestsPerMinute: 1000,
      signupConflictsPerHour: 7,
      resetMailIntervalSeconds: 0,
      resetMailsPerHour: 2,
      postsPerMinute: 9,
    })
  })

  it.each([
    ['RATE_LIMIT', 'maybe'],
    ['RATE_LIMIT_CLIENT_PER_MINUTE', '0'],
    ['RATE_LIMIT_BASE_DELAY_SECONDS', '-1'],
  ])('refuses %s=%s with a line naming it', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError)
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`^${name}: `))
  })

  it('accepts addresses, CIDRs and named ranges in TRUST_PROXY', () => {
    expect(
      loadConfig({ TRUST_PROXY: '10.0.0.1, 10.1.0.0/16,::1,fd00::/8,loopback' }).trustProxy,
    ).toEqual(['10.0.0.1', '10.1.0.0/16', '::1', 'fd00::/8', 'loopback'])
  })

  it.each(['true', '*', '10.0.0.0/33', '10.0.0.1/8/8', 'proxy.example', '::1/129'])(
    'refuses TRUST_PROXY=%s',
    (value) => {
      expect(() => loadConfig({ TRUST_PROXY: value })).toThrow(/^TRUST_PROXY: /)
    },
  )
})
