import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import { clusterScrape } from './cluster.js'

/** How a password sign-in ended (SPEC §10). */
export type SignInOutcome = 'success' | 'invalid_credentials' | 'inactive' | 'throttled' | 'error'
export const SIGN_IN_OUTCOMES: readonly SignInOutcome[] = [
  'success',
  'invalid_credentials',
  'inactive',
  'throttled',
  'error',
]

/** The throttling rules of SPEC §4, as metric labels. */
export const THROTTLE_RULES = [
  'client_requests',
  'account_hourly',
  'account_client_backoff',
  'signup_conflicts',
] as const
export type ThrottleRule = (typeof THROTTLE_RULES)[number]

/** What the password-hash pool reports (services/crypto/hash-pool.ts). */
export interface HashQueueObserver {
  /** hashes waiting for a thread, after each change */
  depth(waiting: number): void
  /** how long a hash waited for a thread, ms */
  waited(ms: number): void
}

/** The counters of a node-postgres pool (pg.Pool has them). */
export interface PoolCounts {
  totalCount: number
  idleCount: number
  waitingCount: number
  options: { max?: number }
}

export interface Scrape {
  contentType: string
  body: string
}

export interface Metrics {
  registry: Registry
  /** The exposition: this process's, or in a cluster worker every worker's together. */
  scrape(): Promise<Scrape>
  httpRequest(method: string, route: string, statusCode: number, seconds: number): void
  signIn(outcome: SignInOutcome): void
  throttleDecision(rule: ThrottleRule, allowed: boolean): void
  refreshReuseDetected(): void
  hashQueue: HashQueueObserver
  /** Reports a PostgreSQL pool's connections on every scrape. */
  watchPool(pool: PoolCounts): void
}

// Sign-ins cost one Argon2id run (~50 ms at OWASP parameters), so the buckets
// reach well past it; the low ones resolve plain reads.
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
const WAIT_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

/**
 * One registry per app (never prom-client's global one), so tests can build
 * many apps in one process. Labels are closed sets (route patterns, status
 * codes, outcomes, rule names): never a user id, email or address.
 */
export function createMetrics(options: { clusterWorker?: boolean } = {}): Metrics {
  const registry = new Registry()
  const registers = [registry]
  collectDefaultMetrics({ register: registry })

  const requests = new Histogram({
    name: 'keygate_http_request_duration_seconds',
    help: 'HTTP requests by route pattern and status code, and how long they took',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: DURATION_BUCKETS,
    registers,
  })
  const signIns = new Counter({
    name: 'keygate_sign_ins_total',
    help: 'Password sign-ins by outcome',
    labelNames: ['outcome'] as const,
    registers,
  })
  const throttle = new Counter({
    name: 'keygate_throttle_decisions_total',
    help: 'Throttling decisions by rule: allowed or refused',
    labelNames: ['rule', 'decision'] as const,
    registers,
  })
  const reuse = new Counter({
    name: 'keygate_refresh_reuse_detections_total',
    help: 'Spent refresh tokens presented after the grace window (the session was revoked)',
    registers,
  })
  const hashDepth = new Gauge({
    name: 'keygate_password_hash_queue_depth',
    help: 'Password hashes waiting for a hashing thread',
    registers,
  })
  const hashWait = new Histogram({
    name: 'keygate_password_hash_wait_seconds',
    help: 'How long a password hash waited for a hashing thread',
    buckets: WAIT_BUCKETS,
    registers,
  })
  // Zero from the start, so rate() and ratios have a series before the first event.
  for (const outcome of SIGN_IN_OUTCOMES) signIns.inc({ outcome }, 0)
  for (const rule of THROTTLE_RULES) {
    for (const decision of ['allowed', 'refused']) throttle.inc({ rule, decision }, 0)
  }

  const local = async (): Promise<Scrape> => ({
    contentType: registry.contentType,
    body: await registry.metrics(),
  })

  return {
    registry,
    scrape: options.clusterWorker ? clusterScrape(registry) : local,
    httpRequest(method, route, statusCode, seconds) {
      requests.observe({ method, route, status_code: String(statusCode) }, seconds)
    },
    signIn: (outcome) => signIns.inc({ outcome }),
    throttleDecision: (rule, allowed) =>
      throttle.inc({ rule, decision: allowed ? 'allowed' : 'refused' }),
    refreshReuseDetected: () => reuse.inc(),
    hashQueue: {
      depth: (waiting) => hashDepth.set(waiting),
      waited: (ms) => hashWait.observe(ms / 1000),
    },
    watchPool(pool) {
      const gauge = (name: string, help: string, read: () => number) =>
        new Gauge({
          name,
          help,
          registers,
          collect() {
            this.set(read())
          },
        })
      gauge('keygate_db_pool_connections', 'Open database connections', () => pool.totalCount)
      gauge('keygate_db_pool_idle_connections', 'Open connections not in use', () => pool.idleCount)
      gauge(
        'keygate_db_pool_waiting_queries',
        'Queries waiting for a free connection',
        () => pool.waitingCount,
      )
      gauge(
        'keygate_db_pool_max_connections',
        'DB_POOL_SIZE: the pool never opens more',
        () => pool.options.max ?? 10,
      )
    },
  }
}
