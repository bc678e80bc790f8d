/**
 * Runs at most `max` tasks at once; the rest wait in FIFO order. Password
 * hashing goes through one so a login storm cannot take every core from the
 * event loop.
 */
export function createSemaphore(max: number) {
  let running = 0
  const waiting: (() => void)[] = []
  return async function run<T>(task: () => Promise<T>): Promise<T> {
    // A released slot is handed straight to the next waiter, so `running` never overshoots.
    if (running < max) running++
    else await new Promise<void>((resolve) => waiting.push(resolve))
    try {
      return await task()
    } finally {
      const next = waiting.shift()
      if (next) next()
      else running--
    }
  }
}
