/**
 * Runs at most `max` tasks at once; the rest wait in FIFO order. Password
 * hashing goes through one so a login storm cannot take every core from the
 * event loop.
 */
export function createSemaphore(max: number) {
  let running = 0
  let closed = false
  const waiting: { resolve(): void; reject(err: Error): void }[] = []
  async function run<T>(task: () => Promise<T>): Promise<T> {
    if (closed) throw new Error('semaphore closed')
    // A released slot is handed straight to the next waiter, so `running` never overshoots.
    if (running < max) running++
    else await new Promise<void>((resolve, reject) => waiting.push({ resolve, reject }))
    try {
      return await task()
    } finally {
      const next = waiting.shift()
      if (next) next.resolve()
      else running--
    }
  }
  /** Refuses new tasks and fails the waiting ones (shutdown); running ones finish. */
  run.close = () => {
    closed = true
    for (const w of waiting.splice(0)) w.reject(new Error('semaphore closed'))
  }
  return run
}
