import type { Clock } from '../../src/domain/time.js'

/** A clock tests move by hand; no test sleeps to reach an expiry. */
export function createTestClock(start = new Date('2026-01-01T00:00:00Z')) {
  let now = start.getTime()
  return {
    now: () => new Date(now),
    advance(ms: number) {
      now += ms
    },
    advanceSeconds(s: number) {
      now += s * 1000
    },
  } satisfies Clock & Record<string, unknown>
}

export type TestClock = ReturnType<typeof createTestClock>
