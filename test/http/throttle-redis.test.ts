import { createHash } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import { describe, expect, it, onTestFinished } from 'vitest'
import { buildTestApp } from '../helpers/app.js'
import { createTestDatabase } from '../helpers/db.js'
import { createUser, form } from '../helpers/factories.js'
import { createTestStore, TEST_REDIS_URL, testPrefix, throttled } from '../helpers/rate-limit.js'

const token = (app: FastifyInstance, username: string, password: string, ip: string) =>
  app.inject({
    method: 'POST',
    url: '/api/v1/auth/token',
    remoteAddress: ip,
    ...form({ username, password }),
  })

async function deleteKeys(pattern: string) {
  const redis = new Redis(TEST_REDIS_URL!)
  try {
    const keys = await redis.keys(pattern)
    if (keys.length > 0) await redis.del(...keys)
    return keys
  } finally {
    redis.disconnect()
  }
}

describe.skipIf(!TEST_REDIS_URL)(
  TEST_REDIS_URL
    ? 'Redis shared by instances'
    : 'Redis shared by instances (skipped: TEST_REDIS_URL is not set)',
  () => {
    it('two instances share one count: failures on one throttle the other', async () => {
      const prefix = testPrefix()
      onTestFinished(async () => void (await deleteKeys(`${prefix}*`)))
      const database = await createTestDatabase()
      const a = await buildTestApp(throttled(), {
        database,
        rateLimitStore: createTestStore('redis', prefix),
      })
      const b = await buildTestApp(throttled(), {
        database,
        rateLimitStore: createTestStore('redis', prefix),
      })
      const user = await createUser(a.app)
      for (let i = 0; i < 5; i++) {
        const app = i % 2 ? a.app : b.app
        expect((await token(app, user.email, 'wrong', '203.0.113.4')).statusCode).toBe(400)
      }
      for (const { app } of [a, b]) {
        const res = await token(app, user.email, user.password, '203.0.113.4')
        expect(res.statusCode).toBe(429)
        expect(res.headers['retry-after']).toBe('30')
      }
    })

    it('REDIS_URL makes createDeps use Redis, and closing the app closes it', async () => {
      const prefix = testPrefix()
      onTestFinished(async () => void (await deleteKeys(`${prefix}*`)))
      const over = { redisUrl: TEST_REDIS_URL, redisKeyPrefix: prefix }
      const { app } = await buildTestApp(throttled({}, over))
      const user = await createUser(app)
      expect((await token(app, user.email, 'wrong', '198.18.0.1')).statusCode).toBe(400)
      await app.close() // must not hang on an open Redis connection
      const redis = new Redis(TEST_REDIS_URL!)
      onTestFinished(() => redis.disconnect())
      const keys = await redis.keys(`${prefix}rl:*`)
      expect(keys.filter((k) => k.startsWith(`${prefix}rl:ac:`))).toHaveLength(1)
      // Key names are an HMAC under the server secret: no address, no login, no plain digest.
      const plainDigest = createHash('sha256').update(user.email).digest('base64url').slice(0, 22)
      for (const k of keys) {
        expect(k).not.toContain('198.18.0.1')
        expect(k).not.toContain(user.email)
        expect(k).not.toContain(plainDigest)
      }
    })
  },
)
