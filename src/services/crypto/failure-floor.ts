import { setTimeout as sleep } from 'node:timers/promises'

export interface FailureFloorOptions {
  /** how long the floor remembers a slow verification */
  windowMs?: number
  /** the window's resolution: the slowest verification of each bucket is kept */
  bucketMs?: number
  /** the floor never exceeds this, so one slow outlier cannot stall every failure */
  capMs?: number
  now?: () => number
  wait?: (ms: number) => Promise<unknown>
}

/**
 * Imported hashes cost different times (a bcrypt-12 check takes several times an
 * Argon2id one), so a wrong password on an imported, not-yet-upgraded account
 * would be slower than an unknown email, revealing which emails exist. Every
 * failed password check is therefore answered no sooner than the slowest
 * verification of the last `windowMs`. The window is time, not a count of
 * requests: a count could be flushed by a burst of cheap failures right before
 * a probe. What remains is documented in docs/decisions/legacy-hash-timing.md.
 * It is wall-clock latency, not policy time, so it does not use the injected clock.
 */
export function createFailureFloor(options: FailureFloorOptions = {}) {
  const {
    windowMs = 60 * 60 * 1000,
    bucketMs = 5 * 60 * 1000,
    capMs = 2000,
    now = () => performance.now(),
    wait = sleep,
  } = options
  // Slowest verification per bucket, oldest first; at most windowMs / bucketMs + 1 of them.
  const buckets: { index: number; max: number }[] = []

  function floor(): number {
    const oldest = Math.floor((now() - windowMs) / bucketMs)
    while (buckets.length > 0 && buckets[0]!.index < oldest) buckets.shift()
    return Math.min(capMs, Math.max(0, ...buckets.map((b) => b.max)))
  }

  return {
    now,
    /** Remembers how long one verification took, from `startedAt`; returns that duration. */
    record(startedAt: number): number {
      const took = now() - startedAt
      const index = Math.floor(now() / bucketMs)
      const last = buckets.at(-1)
      if (last?.index === index) last.max = Math.max(last.max, took)
      else buckets.push({ index, max: took })
      return took
    },
    /** Waits until a failure that took `took` ms has lasted as long as the slowest recent one. */
    async pad(took: number): Promise<void> {
      const target = floor()
      if (target > took) await wait(target - took)
    },
  }
}

export type FailureFloor = ReturnType<typeof createFailureFloor>
