import { createRequire } from 'node:module'
import { performance } from 'node:perf_hooks'
import { Worker } from 'node:worker_threads'

/**
 * Password hashing on `size` dedicated threads at a lower CPU priority (nice
 * 5, Linux), so a login storm takes mostly the CPU the event loop leaves over
 * without starving logins under a read flood (docs/decisions/hash-threads-nice-5.md).
 * At most `size` hashes run at once;
 * the rest wait in FIFO order. Threads start on first use and stop on close().
 */
export interface HashPool {
  argon2Hash(password: string, options: object): Promise<string>
  argon2Verify(storedHash: string, password: string): Promise<boolean>
  close(): Promise<void>
}

export const HASH_THREAD_NICE = 5

/** Told how many hashes wait for a thread, and how long each waited (metrics). */
export interface HashPoolObserver {
  depth(waiting: number): void
  waited(ms: number): void
}

// Plain CommonJS evaluated in the worker, so it runs the same from src/ (tests)
// and dist/; module paths are resolved here and handed over.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const argon2 = require(workerData.argon2)
try {
  const tid = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop())
  require('node:os').setPriority(tid, workerData.nice)
} catch {}
const ops = {
  argon2Hash: (password, options) => argon2.hashSync(password, options),
  argon2Verify: (hash, password) => argon2.verifySync(hash, password),
}
parentPort.on('message', ({ op, args }) => {
  try {
    parentPort.postMessage({ result: ops[op](...args) })
  } catch (err) {
    parentPort.postMessage({ error: err instanceof Error ? err.message : String(err) })
  }
})
`

interface Job {
  op: string
  args: unknown[]
  resolve(value: any): void
  reject(err: Error): void
  queuedAt: number
}

export function createHashPool(
  size: number,
  nice = HASH_THREAD_NICE,
  observer?: HashPoolObserver,
): HashPool {
  const require = createRequire(import.meta.url)
  const workerData = {
    argon2: require.resolve('@node-rs/argon2'),
    nice,
  }
  const idle: Worker[] = []
  const busy = new Map<Worker, Job>()
  const queue: Job[] = []
  let closed = false

  function spawn(): Worker {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData })
    worker.on('message', (msg: { result?: unknown; error?: string }) => {
      const job = busy.get(worker)
      busy.delete(worker)
      if (msg.error !== undefined) job?.reject(new Error(msg.error))
      else job?.resolve(msg.result)
      next(worker)
    })
    worker.on('error', (err) => {
      busy.get(worker)?.reject(err)
      busy.delete(worker)
      // A replacement takes over whatever is still queued.
      if (queue.length > 0 && !closed) next(spawn())
    })
    return worker
  }

  function next(worker: Worker) {
    const job = queue.shift()
    if (!job) {
      // An idle thread must not keep a CLI process alive; a busy one must.
      worker.unref()
      return void idle.push(worker)
    }
    worker.ref()
    observer?.waited(performance.now() - job.queuedAt)
    observer?.depth(queue.length)
    busy.set(worker, job)
    worker.postMessage({ op: job.op, args: job.args })
  }

  function run<T>(op: string, args: unknown[]): Promise<T> {
    if (closed) return Promise.reject(new Error('hash pool closed'))
    return new Promise<T>((resolve, reject) => {
      queue.push({ op, args, resolve, reject, queuedAt: performance.now() })
      const worker = idle.pop() ?? (busy.size < size ? spawn() : undefined)
      if (worker) next(worker)
      else observer?.depth(queue.length)
    })
  }

  return {
    argon2Hash: (password, options) => run('argon2Hash', [password, options]),
    argon2Verify: (storedHash, password) => run('argon2Verify', [storedHash, password]),
    async close() {
      closed = true
      for (const job of queue.splice(0)) job.reject(new Error('hash pool closed'))
      observer?.depth(0)
      await Promise.all([...idle.splice(0), ...busy.keys()].map((w) => w.terminate()))
    },
  }
}
