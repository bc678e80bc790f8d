import { createRequire } from 'node:module'
import type { RateLimitStore } from './memory-store.js'

// Each rule is one Lua script, so concurrent instances never race between a
// read and a write. Times come from the caller (ARGV), as in the memory store;
// PEXPIRE only lets Redis collect what the rules have forgotten.
const HIT = `
local now, win, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local v = redis.call('HMGET', KEYS[1], 'n', 'until')
local n, untl = tonumber(v[1]) or 0, tonumber(v[2]) or 0
if untl <= now then n = 0; untl = now + win end
if n >= limit then return {0, n, untl} end
n = n + 1
redis.call('HSET', KEYS[1], 'n', n, 'until', untl)
redis.call('PEXPIRE', KEYS[1], math.max(untl - now, 1))
return {1, n, untl}`

const UNHIT = `
local v = redis.call('HMGET', KEYS[1], 'n', 'until')
local n, untl = tonumber(v[1]) or 0, tonumber(v[2]) or 0
if n > 0 and untl > tonumber(ARGV[1]) then redis.call('HINCRBY', KEYS[1], 'n', -1) end
return 0`

const ATTEMPT = `
local now, free, base, max, memory =
  tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local v = redis.call('HMGET', KEYS[1], 'n', 'until', 'exp')
local n, untl, exp = tonumber(v[1]) or 0, tonumber(v[2]) or 0, tonumber(v[3]) or 0
if exp <= now then n = 0; untl = 0 end
if untl > now then return {0, untl} end
n = n + 1
local delay = 0
if n >= free then delay = math.min(base * 2 ^ math.min(n - free, 40), max) end
untl = 0
if delay > 0 then untl = now + delay end
exp = now + delay + memory
redis.call('HSET', KEYS[1], 'n', n, 'until', untl, 'exp', exp)
redis.call('PEXPIRE', KEYS[1], math.max(exp - now, 1))
return {1, untl}`

/** A Lua script defined on the client; it answers a fixed tuple of integers. */
type Script<R extends number[] = number[]> = (
  key: string,
  ...args: (string | number)[]
) => Promise<R>

/** Shared counters for several instances (REDIS_URL). Keys carry `prefix`. */
export function createRedisStore(url: string, options: { prefix?: string } = {}): RateLimitStore {
  const prefix = options.prefix ?? 'keygate:rl:'
  // Loaded only with REDIS_URL set: idle memory stays low without it.
  const { Redis } = createRequire(import.meta.url)('ioredis') as typeof import('ioredis')
  const redis = new Redis(url, {
    // Fail a command fast instead of queueing it for ever while Redis is away:
    // the throttle then answers 503 rather than hanging the login.
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: 2000,
  })
  // Failures reach callers through rejected commands; without a listener
  // ioredis would print every reconnection error.
  redis.on('error', () => {})
  redis.defineCommand('kgHit', { numberOfKeys: 1, lua: HIT })
  redis.defineCommand('kgUnhit', { numberOfKeys: 1, lua: UNHIT })
  redis.defineCommand('kgAttempt', { numberOfKeys: 1, lua: ATTEMPT })
  const defined = redis as unknown as Record<string, Script | undefined>
  function script<R extends number[]>(name: string): Script<R> {
    const command = defined[name]
    if (!command) throw new Error(`ioredis did not define the ${name} command`)
    return command.bind(redis) as Script<R>
  }
  // HIT answers {allowed, count, resetAt}; ATTEMPT answers {allowed, lockedUntil}.
  const hit = script<[number, number, number]>('kgHit')
  const unhit = script('kgUnhit')
  const attempt = script<[number, number]>('kgAttempt')

  return {
    async hit(key, limit, windowMs, now) {
      const [allowed, count, resetAt] = await hit(prefix + key, now, windowMs, limit)
      return { allowed: allowed === 1, count, resetAt }
    },
    async unhit(key, now) {
      await unhit(prefix + key, now)
    },
    async attempt(key, rule, now) {
      const args = [now, rule.free, rule.baseMs, rule.maxMs, rule.memoryMs]
      const [allowed, lockedUntil] = await attempt(prefix + key, ...args)
      return { allowed: allowed === 1, lockedUntil }
    },
    async reset(key) {
      await redis.del(prefix + key)
    },
    async ping() {
      // Names where it looked, so the log of a failed /readyz says which Redis.
      await redis.ping().catch((err: Error) => {
        throw new Error(`redis at ${redis.options.host}:${redis.options.port}: ${err.message}`)
      })
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect())
    },
  }
}
