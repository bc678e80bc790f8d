/**
 * Counters behind throttling. Every operation takes `now` (ms) from the
 * caller's clock and stores expiry timestamps, so the rules follow the
 * injected clock; a backend's own TTL only collects garbage.
 */
export interface WindowResult {
  /** false when the window already holds `limit` hits (this one was not counted) */
  allowed: boolean
  count: number
  /** when the current window ends, ms */
  resetAt: number
}

export interface BackoffRule {
  /** attempts allowed before the first lock */
  free: number
  /** first lock; each further counted attempt doubles it */
  baseMs: number
  maxMs: number
  /** how long the count is remembered after the last counted attempt */
  memoryMs: number
}

export interface BackoffResult {
  /** false while locked (this attempt was not counted) */
  allowed: boolean
  /** end of the lock, ms; 0 when none */
  lockedUntil: number
}

export interface RateLimitStore {
  /** Fixed window counter: counts a hit unless the window (from its first hit) holds `limit`. */
  hit(key: string, limit: number, windowMs: number, now: number): Promise<WindowResult>
  /** Takes one hit back from the current window (the attempt turned out not to count). */
  unhit(key: string, now: number): Promise<void>
  /** Refuses while locked; else counts the attempt and, from the `free`-th on, locks for base·2^k. */
  attempt(key: string, rule: BackoffRule, now: number): Promise<BackoffResult>
  reset(key: string): Promise<void>
  /** Resolves when the store answers (for /readyz); rejects when it cannot. */
  ping(): Promise<void>
  close(): Promise<void>
}

/** The doubling delay of the `count`-th attempt, or 0 before `free` is reached. */
export function backoffDelay(rule: BackoffRule, count: number): number {
  if (count < rule.free) return 0
  const doublings = Math.min(count - rule.free, 40)
  return Math.min(rule.baseMs * 2 ** doublings, rule.maxMs)
}

interface Entry {
  n: number
  /** window end (hit) or lock end (attempt) */
  until: number
  /** when the entry may be forgotten */
  exp: number
}

/**
 * Process memory: right for one instance. Expired entries are swept as it
 * goes, and the oldest are dropped beyond `maxEntries`, so a spray of
 * made-up accounts cannot grow it without bound.
 */
export function createMemoryStore(options: { maxEntries?: number } = {}): RateLimitStore {
  const maxEntries = options.maxEntries ?? 500_000
  const entries = new Map<string, Entry>()
  let ops = 0

  function live(key: string, now: number): Entry | undefined {
    const e = entries.get(key)
    if (e && e.exp <= now) {
      entries.delete(key)
      return undefined
    }
    return e
  }

  function put(key: string, e: Entry, now: number) {
    entries.delete(key) // re-insert: Map order is then least recently written first
    entries.set(key, e)
    if (++ops % 1000 === 0) for (const [k, v] of entries) if (v.exp <= now) entries.delete(k)
    while (entries.size > maxEntries) entries.delete(entries.keys().next().value as string)
  }

  return {
    async hit(key, limit, windowMs, now) {
      const e = live(key, now) ?? { n: 0, until: now + windowMs, exp: now + windowMs }
      if (e.n >= limit) return { allowed: false, count: e.n, resetAt: e.until }
      put(key, { ...e, n: e.n + 1 }, now)
      return { allowed: true, count: e.n + 1, resetAt: e.until }
    },
    async unhit(key, now) {
      const e = live(key, now)
      if (e && e.n > 0) e.n--
    },
    async attempt(key, rule, now) {
      const e = live(key, now) ?? { n: 0, until: 0, exp: 0 }
      if (e.until > now) return { allowed: false, lockedUntil: e.until }
      const n = e.n + 1
      const delay = backoffDelay(rule, n)
      const until = delay > 0 ? now + delay : 0
      put(key, { n, until, exp: now + delay + rule.memoryMs }, now)
      return { allowed: true, lockedUntil: until }
    },
    async reset(key) {
      entries.delete(key)
    },
    async ping() {},
    async close() {
      entries.clear()
    },
  }
}
