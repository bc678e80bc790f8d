import cluster, { type Worker } from 'node:cluster'
import { hostname } from 'node:os'
import type { Config } from '../config.js'
import { MIGRATIONS_LOG_MESSAGE } from '../db/migrate.js'
import { loadSigningKeys } from '../services/keys/signing-keys.js'
import { isChangeMessage } from '../services/revocations/change-transports.js'
import { migrateDatabase } from './compose.js'
import type { LogSink } from './log-output.js'

// pino's numeric levels, so the primary's lines read like the workers' own.
const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: 99 }

export interface LineLogger {
  info(fields: object, msg: string): void
  warn(fields: object, msg: string): void
  error(fields: object, msg: string): void
}

/** A tiny JSON-lines logger for the primary, which has no Fastify instance of its own. */
export function createLineLogger(level: string, out: LogSink): LineLogger {
  const min = LEVELS[level as keyof typeof LEVELS] ?? LEVELS.info
  const base = { pid: process.pid, hostname: hostname() }
  const line = (lvl: number) => (fields: object, msg: string) => {
    if (lvl < min) return
    out.write(`${JSON.stringify({ level: lvl, time: Date.now(), ...base, ...fields, msg })}\n`)
  }
  return { info: line(LEVELS.info), warn: line(LEVELS.warn), error: line(LEVELS.error) }
}

/**
 * What the primary does once, before any worker starts: migrations (so N
 * workers do not race on them), loading the signing keys (so key files are
 * created once) and other one-time set-up.
 */
export async function prepareOnce(config: Config, log: LineLogger): Promise<void> {
  // Keys first, as createDeps does: a missing production key file stops start-up
  // before the database is touched.
  await loadSigningKeys(config)
  if (config.migrateOnStart) {
    log.info({ applied: await migrateDatabase(config) }, MIGRATIONS_LOG_MESSAGE)
  }
  // The first superuser is not created here: each worker's buildApp ensures it,
  // and the unique email index makes concurrent attempts create it once.
}

export interface ClusterOptions {
  workers: number
  /** environment for the workers; MIGRATE_ON_START=off is added */
  env: NodeJS.ProcessEnv
  log: LineLogger
  /** how long workers get to finish in-flight requests before they are killed */
  drainTimeoutMs?: number
  /** called once, with the port bound, when the first worker listens */
  onListening?: (port: number) => void
}

const RESTART_MIN_MS = 250
const RESTART_MAX_MS = 30_000
/** a worker that lived this long before dying resets its backoff */
const HEALTHY_AFTER_MS = 30_000

/**
 * Runs in the cluster primary: forks the workers (they share the listening
 * socket), restarts a worker that dies with a doubling backoff, and on
 * SIGTERM/SIGINT asks every worker to drain, then resolves to the exit code.
 */
export function runCluster(options: ClusterOptions): Promise<number> {
  const { workers, log } = options
  const env = { ...options.env, MIGRATE_ON_START: 'off' }
  const live = new Map<number, { slot: number; startedAt: number }>()
  const crashes: number[] = Array.from({ length: workers }, () => 0)
  const timers = new Set<NodeJS.Timeout>()
  let listening = false
  let stopping = false
  let exitCode = 0

  return new Promise<number>((resolve) => {
    const fork = (slot: number) => {
      const worker = cluster.fork(env)
      live.set(worker.id, { slot, startedAt: Date.now() })
      // Liveness changes on SQLite without Redis: relayed to every other worker.
      worker.on('message', (m: unknown) => {
        if (!isChangeMessage(m)) return
        for (const other of Object.values(cluster.workers ?? {})) {
          if (other && other !== worker && other.isConnected()) other.send(m)
        }
      })
      worker.once('listening', (address: { port: number }) => {
        if (!listening) options.onListening?.(address.port)
        listening = true
        log.info({ worker: slot, workerPid: worker.process.pid }, 'worker listening')
      })
    }

    const stop = (code: number, reason: string) => {
      if (stopping) return
      stopping = true
      exitCode = code
      for (const t of timers) clearTimeout(t)
      log.info({ reason, workers: live.size }, 'shutting down: draining workers')
      // Each worker's own SIGTERM handler closes its server after in-flight requests.
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM')
      setTimeout(() => {
        log.error({ drainTimeoutMs: options.drainTimeoutMs }, 'drain timed out: killing workers')
        exitCode = 1
        for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGKILL')
      }, options.drainTimeoutMs ?? 30_000).unref()
      if (live.size === 0) resolve(exitCode)
    }

    cluster.on('exit', (worker: Worker, code: number | null, signal: string | null) => {
      const info = live.get(worker.id)
      live.delete(worker.id)
      if (stopping) {
        if (code !== 0 && signal !== 'SIGTERM') exitCode = 1
        if (live.size === 0) resolve(exitCode)
        return
      }
      log.error({ workerPid: worker.process.pid, code, signal }, 'worker died')
      // A worker that never listened hit a start-up error (port taken, bad key
      // file): restarting it would only loop, so the whole server stops.
      if (!listening || !info) return stop(1, 'worker failed to start')
      const lived = Date.now() - info.startedAt
      crashes[info.slot] = lived > HEALTHY_AFTER_MS ? 1 : (crashes[info.slot] ?? 0) + 1
      const delayMs = Math.min(
        RESTART_MIN_MS * 2 ** ((crashes[info.slot] ?? 1) - 1),
        RESTART_MAX_MS,
      )
      log.info({ worker: info.slot, delayMs }, 'restarting worker')
      const timer = setTimeout(() => {
        timers.delete(timer)
        if (!stopping) fork(info.slot)
      }, delayMs)
      timers.add(timer)
    })

    process.once('SIGTERM', () => stop(0, 'SIGTERM'))
    process.once('SIGINT', () => stop(0, 'SIGINT'))
    // Each worker re-reads its key file on SIGHUP.
    process.on('SIGHUP', () => {
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGHUP')
    })
    for (let slot = 0; slot < workers; slot++) fork(slot)
  })
}
