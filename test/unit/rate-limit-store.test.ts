import { describe, expect, it } from 'vitest'
import {
  type BackoffRule,
  backoffDelay,
  createMemoryStore,
} from '../../src/services/throttle/memory-store.js'
import { createRedisStore } from '../../src/services/throttle/redis-store.js'
import { must } from '../helpers/must.js'
import { createTestStore, STORE_KINDS } from '../helpers/rate-limit.js'

const T0 = Date.parse('2026-01-01T00:00:00Z')
const rule: BackoffRule = { free: 3, baseMs: 1000, maxMs: 5000, memoryMs: 60_000 }

describe('backoffDelay', () => {
  it('is free below the threshold, then doubles up to the ceiling', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => backoffDelay(rule, n))).toEqual([
      0, 0, 1000, 2000, 4000, 5000, 5000,
    ])
    expect(backoffDelay(rule, 10_000)).toBe(5000)
  })
})

// One contract, both backends: the rules must not depend on where counters live.
for (const { kind, title, skip } of STORE_KINDS) {
  describe.skipIf(skip)(title, () => {
    it('hit counts up to the limit in a window, then refuses without counting', async () => {
      const store = createTestStore(kind)
      const results = []
      for (let i = 0; i < 4; i++) results.push(await store.hit('k', 3, 60_000, T0 + i))
      expect(results.map((r) => [r.allowed, r.count])).toEqual([
        [true, 1],
        [true, 2],
        [true, 3],
        [false, 3],
      ])
      expect(must(results[3]).resetAt).toBe(T0 + 60_000)
    })

    it('a window ends by the caller clock, not the backend clock', async () => {
      const store = createTestStore(kind)
      for (let i = 0; i < 3; i++) await store.hit('k', 3, 60_000, T0)
      expect((await store.hit('k', 3, 60_000, T0 + 59_999)).allowed).toBe(false)
      const next = await store.hit('k', 3, 60_000, T0 + 60_000)
      expect(next).toEqual({ allowed: true, count: 1, resetAt: T0 + 120_000 })
    })

    it('unhit takes one hit back, never below zero', async () => {
      const store = createTestStore(kind)
      await store.hit('k', 2, 60_000, T0)
      await store.hit('k', 2, 60_000, T0)
      await store.unhit('k', T0)
      expect((await store.hit('k', 2, 60_000, T0)).count).toBe(2)
      await store.unhit('other', T0)
      expect((await store.hit('other', 2, 60_000, T0)).count).toBe(1)
    })

    it('attempt locks from the free-th attempt with a doubling delay', async () => {
      const store = createTestStore(kind)
      expect(await store.attempt('a', rule, T0)).toEqual({ allowed: true, lockedUntil: 0 })
      expect(await store.attempt('a', rule, T0)).toEqual({ allowed: true, lockedUntil: 0 })
      expect(await store.attempt('a', rule, T0)).toEqual({ allowed: true, lockedUntil: T0 + 1000 })
      expect(await store.attempt('a', rule, T0 + 999)).toEqual({
        allowed: false,
        lockedUntil: T0 + 1000,
      })
      expect(await store.attempt('a', rule, T0 + 1000)).toEqual({
        allowed: true,
        lockedUntil: T0 + 3000,
      })
      expect((await store.attempt('a', rule, T0 + 3000)).lockedUntil).toBe(T0 + 7000)
      expect((await store.attempt('a', rule, T0 + 7000)).lockedUntil).toBe(T0 + 12_000)
    })

    it('attempt forgets the count after memoryMs without attempts, and on reset', async () => {
      const store = createTestStore(kind)
      for (let i = 0; i < 3; i++) await store.attempt('a', rule, T0)
      const later = T0 + 1000 + rule.memoryMs
      expect(await store.attempt('a', rule, later)).toEqual({ allowed: true, lockedUntil: 0 })
      for (let i = 0; i < 3; i++) await store.attempt('b', rule, T0)
      await store.reset('b')
      expect(await store.attempt('b', rule, T0)).toEqual({ allowed: true, lockedUntil: 0 })
    })

    it('parallel attempts are atomic: exactly `free` get through before the lock', async () => {
      const store = createTestStore(kind)
      const results = await Promise.all(
        Array.from({ length: 20 }, () => store.attempt('p', rule, T0)),
      )
      expect(results.filter((r) => r.allowed)).toHaveLength(rule.free)
    })
  })
}

describe('memory store bounds', () => {
  it('drops the oldest entries beyond maxEntries', async () => {
    const store = createMemoryStore({ maxEntries: 2 })
    await store.hit('a', 1, 60_000, T0)
    await store.hit('b', 1, 60_000, T0)
    await store.hit('c', 1, 60_000, T0)
    expect((await store.hit('a', 1, 60_000, T0)).allowed).toBe(true)
    expect((await store.hit('c', 1, 60_000, T0)).allowed).toBe(false)
  })
})

describe('redis store outage', () => {
  it('rejects instead of hanging when Redis cannot be reached', async () => {
    const store = createRedisStore('redis://127.0.0.1:1')
    try {
      await expect(store.hit('k', 1, 1000, T0)).rejects.toThrow()
    } finally {
      await store.close()
    }
  })
})
