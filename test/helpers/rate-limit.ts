import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { onTestFinished } from 'vitest'
import { type Config, loadConfig, type RateLimitConfig } from '../../src/config.js'
import { createMemoryStore, type RateLimitStore } from '../../src/services/throttle/memory-store.js'
import { createRedisStore } from '../../src/services/throttle/redis-store.js'

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL

export type StoreKind = 'memory' | 'redis'

/**
 * The stores every throttle rule is tested against. Redis runs when
 * TEST_REDIS_URL is set (npm test and CI set it when Redis is reachable).
 */
export const STORE_KINDS: { kind: StoreKind; title: string; skip: boolean }[] = [
  { kind: 'memory', title: 'memory store', skip: false },
  {
    kind: 'redis',
    title: TEST_REDIS_URL ? 'redis store' : 'redis store (skipped: TEST_REDIS_URL is not set)',
    skip: !TEST_REDIS_URL,
  },
]

export const testPrefix = () => `kg_test:${randomBytes(6).toString('hex')}:`

/** A fresh store for one test; Redis keys get a unique prefix and are deleted afterwards. */
export function createTestStore(kind: StoreKind, sharedPrefix?: string): RateLimitStore {
  if (kind === 'memory') return createMemoryStore()
  const prefix = sharedPrefix ?? testPrefix()
  const store = createRedisStore(TEST_REDIS_URL!, { prefix })
  onTestFinished(async () => {
    await store.close()
    if (sharedPrefix) return
    const redis = new Redis(TEST_REDIS_URL!)
    try {
      const keys = await redis.keys(`${prefix}*`)
      if (keys.length > 0) await redis.del(...keys)
    } finally {
      redis.disconnect()
    }
  })
  return store
}

/** Test config with throttling on (testConfig turns it off), plus rule overrides. */
export function throttled(
  rules: Partial<RateLimitConfig> = {},
  over: Partial<Config> = {},
): Partial<Config> {
  return {
    // The documented defaults come from loadConfig itself, so they cannot drift.
    rateLimit: { ...loadConfig({}).rateLimit, enabled: true, ...rules },
    ...over,
  }
}
