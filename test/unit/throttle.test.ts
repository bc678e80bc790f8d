import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config.js'
import { KeygateError } from '../../src/errors.js'
import { createMemoryStore, type RateLimitStore } from '../../src/services/throttle/memory-store.js'
import { createThrottle } from '../../src/services/throttle/throttle.js'
import { createTestClock } from '../helpers/clock.js'

const settings = { ...loadConfig({}).rateLimit, accountClientFailures: 2 }
const invalid = async () => {
  throw new KeygateError('INVALID_CREDENTIALS')
}

describe('throttle policy', () => {
  it('answers 503 when its store cannot answer, never letting the guess through', async () => {
    const broken: RateLimitStore = {
      ...createMemoryStore(),
      hit: async () => {
        throw new Error('ECONNREFUSED')
      },
    }
    const throttle = createThrottle({ settings, store: broken, clock: createTestClock() })
    let checked = false
    const attempt = throttle.login('a@b.c', '192.0.2.1', async () => {
      checked = true
    })
    await expect(attempt).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE', statusCode: 503 })
    expect(checked).toBe(false)
    await expect(throttle.request('192.0.2.1')).rejects.toMatchObject({ statusCode: 503 })
  })

  it('keeps failures that are not a wrong password out of the per-account ceiling', async () => {
    const throttle = createThrottle({
      settings: { ...settings, accountFailuresPerHour: 2 },
      store: createMemoryStore(),
      clock: createTestClock(),
    })
    const outage = async () => {
      throw new KeygateError('SERVICE_UNAVAILABLE')
    }
    for (let i = 1; i <= 4; i++) {
      await expect(throttle.login('a@b.c', `192.0.2.${i}`, outage)).rejects.toMatchObject({
        code: 'SERVICE_UNAVAILABLE',
      })
    }
    await expect(throttle.login('a@b.c', '192.0.2.9', async () => 'in')).resolves.toBe('in')
    await throttle.login('a@b.c', '192.0.2.9', invalid).catch(() => {})
    await throttle.login('a@b.c', '192.0.2.8', invalid).catch(() => {})
    await expect(throttle.login('a@b.c', '192.0.2.7', async () => 'in')).rejects.toMatchObject({
      code: 'RATE_LIMITED',
    })
  })

  it('with RATE_LIMIT off lets everything through', async () => {
    const throttle = createThrottle({
      settings: { ...settings, enabled: false, clientRequestsPerMinute: 1 },
      store: createMemoryStore(),
      clock: createTestClock(),
    })
    for (let i = 0; i < 5; i++) {
      await throttle.request('192.0.2.1')
      await expect(throttle.login('a@b.c', '192.0.2.1', invalid)).rejects.toMatchObject({
        code: 'INVALID_CREDENTIALS',
      })
    }
  })
})
