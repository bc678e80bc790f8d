import { setTimeout as sleep } from 'node:timers/promises'

export interface FailureFloorOptions {
  /** how many recent verifications the floor remembers */
  window?: number
  /** the floor never exceeds this, so one slow outlier cannot stall every failure */
  capMs?: number
  now?: () => number
  wait?: (ms: number) => Promise<unknown>
}

/**
 * Imported hashes cost different times (a bcrypt-12 check takes several times an
 * Argon2id one), so a wrong password on an imported, not-yet-upgraded account
 * would be slower than an unknown email, revealing which emails exist. Every
 * failed password check is therefore answered no sooner than the slowest of the
 * recent verifications. It is wall-clock latency, not policy time, so it does not
 * use the injected clock.
 */
export function createFailureFloor(options: FailureFloorOptions = {}) {
  const { window = 64, capMs = 1000, now = () => performance.now(), wait = sleep } = options
  const recent: number[] = []

  return {
    now,
    /** Remembers how long one verification took, from `startedAt`; returns that duration. */
    record(startedAt: number): number {
      const took = now() - startedAt
      recent.push(took)
      if (recent.length > window) recent.shift()
      return took
    },
    /** Waits until a failure that took `took` ms has lasted as long as the slowest recent one. */
    async pad(took: number): Promise<void> {
      const floor = Math.min(capMs, Math.max(0, ...recent))
      if (floor > took) await wait(floor - took)
    },
  }
}

export type FailureFloor = ReturnType<typeof createFailureFloor>
