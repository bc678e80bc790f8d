import { describe, expect, it } from 'vitest'
import { KeygateError } from '../../src/errors.js'
import { countSignIns, countThrottleDecisions } from '../../src/services/metrics/instrument.js'
import { createMetrics } from '../../src/services/metrics/metrics.js'
import type { AuthService } from '../../src/services/sessions/authentication.js'
import { createMemoryStore } from '../../src/services/throttle/memory-store.js'

const valuesOf = async (metrics: ReturnType<typeof createMetrics>, name: string) => {
  const metric = await metrics.registry.getSingleMetric(name)?.get()
  return Object.fromEntries(
    (metric?.values ?? []).map((v) => [Object.values(v.labels).join('/'), v.value]),
  )
}

describe('countSignIns', () => {
  const failing = (err: unknown) =>
    ({
      login: async () => {
        throw err
      },
    }) as unknown as AuthService

  it('maps each failure to its outcome; anything unexpected is `error`', async () => {
    const metrics = createMetrics()
    const cases: [unknown, string][] = [
      [new KeygateError('INVALID_CREDENTIALS'), 'invalid_credentials'],
      [new KeygateError('INACTIVE_USER'), 'inactive'],
      [new KeygateError('RATE_LIMITED'), 'throttled'],
      [new KeygateError('SERVICE_UNAVAILABLE'), 'error'],
      [new Error('boom'), 'error'],
    ]
    for (const [err] of cases) {
      const auth = countSignIns(failing(err), metrics)
      await expect(auth.login('a@example.com', 'pw', {} as never)).rejects.toBe(err)
    }
    expect(await valuesOf(metrics, 'keygate_sign_ins_total')).toEqual({
      success: 0,
      invalid_credentials: 1,
      inactive: 1,
      throttled: 1,
      error: 2,
    })
  })

  it('returns the service untouched when metrics are off', () => {
    const auth = failing(new Error('x'))
    expect(countSignIns(auth, undefined)).toBe(auth)
  })
})

describe('countThrottleDecisions', () => {
  it('labels by the rule named in the key prefix, and ignores keys of no known rule', async () => {
    const metrics = createMetrics()
    const store = countThrottleDecisions(createMemoryStore(), metrics)
    const now = Date.now()
    await store.hit('rq:198.51.100.0/24', 1, 60_000, now)
    await store.hit('rq:198.51.100.0/24', 1, 60_000, now)
    await store.hit('other:x', 1, 60_000, now)
    const rule = { free: 1, baseMs: 1000, maxMs: 1000, memoryMs: 60_000 }
    await store.attempt('ac:digest:198.51.100.0/24', rule, now)
    await store.attempt('ac:digest:198.51.100.0/24', rule, now)
    expect(await valuesOf(metrics, 'keygate_throttle_decisions_total')).toMatchObject({
      'client_requests/allowed': 1,
      'client_requests/refused': 1,
      'account_client_backoff/allowed': 1,
      'account_client_backoff/refused': 1,
      'account_hourly/allowed': 0,
    })
  })
})
