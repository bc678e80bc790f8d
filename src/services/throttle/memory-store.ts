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
  /** until when the entry refuses someone (a full window or a lock); 0 when it does not */
  refuses: number
}

/** Thrown when the store is full of entries that all refuse someone; the throttle answers 503. */
export class StoreFullError extends Error {
  override name = 'StoreFullError'
}

// How many of the oldest entries one insertion looks at for one it may drop.
const EVICTION_SCAN = 64

/**
 * Process memory: right for one instance. Expired entries are swept as it
 * goes, and beyond `maxEntries` the oldest entry that refuses nobody is
 * dropped, so a spray of made-up accounts cannot grow it without bound, nor
 * push out a live lockout to reopen a guessing budget. When every entry
 * looked at is refusing someone, the new key is refused instead (fail closed).
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

  /** Drops one entry that refuses nobody, oldest first; false when none was found. */
  function evictOne(now: number): boolean {
    let looked = 0
    for (const [k, v] of entries) {
      entries.delete(k)
      if (v.exp <= now || v.refuses <= now) return true
      entries.set(k, v) // still refusing: it goes to the back, and stays
      if (++looked >= EVICTION_SCAN) return false
    }
    return false
  }

  function put(key: string, e: Entry, now: number) {
    const isNew = !entries.has(key)
    if (++ops % 1000 === 0) for (const [k, v] of entries) if (v.exp <= now) entries.delete(k)
    if (isNew && entries.size >= maxEntries && !evictOne(now)) {
      throw new StoreFullError('throttle store full of live lockouts')
    }
    entries.delete(key) // re-insert: Map order is then least recently written first
    entries.set(key, e)
  }

  return {
    async hit(key, limit, windowMs, now) {
      const e = live(key, now) ?? { n: 0, until: now + windowMs, exp: now + windowMs, refuses: 0 }
      if (e.n >= limit) return { allowed: false, count: e.n, resetAt: e.until }
      const n = e.n + 1
      put(key, { ...e, n, refuses: n >= limit ? e.until : 0 }, now)
      return { allowed: true, count: e.n + 1, resetAt: e.until }
    },
    async unhit(key, now) {
      const e = live(key, now)
      if (e && e.n > 0) {
        e.n--
        e.refuses = 0
      }
    },
    async attempt(key, rule, now) {
      const e = live(key, now) ?? { n: 0, until: 0, exp: 0, refuses: 0 }
      if (e.until > now) return { allowed: false, lockedUntil: e.until }
      const n = e.n + 1
      const delay = backoffDelay(rule, n)
      const until = delay > 0 ? now + delay : 0
      put(key, { n, until, exp: now + delay + rule.memoryMs, refuses: until }, now)
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
