import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testDialect } from '../helpers/db.js'
import { strongPassword } from '../helpers/factories.js'
import {
  hasPrometheus,
  hasPromtool,
  parseExposition,
  promtoolCheck,
  type Sample,
  sampleValue,
  startPrometheus,
} from '../helpers/prometheus.js'
import { createServerDatabase, type ServerDatabase } from '../helpers/server-db.js'
import { http, type ServerProcess, startServer, stopAllServers } from '../helpers/server-process.js'

const TOKEN = 'metrics-token-that-is-at-least-32-bytes'
const tag = randomBytes(4).toString('hex')
const REQUESTS = 16

/** Polls `check` until it stops throwing (or the time is up, when its last error is thrown). */
async function eventually<T>(check: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs
  for (;;) {
    try {
      return await check()
    } catch (err) {
      if (Date.now() > until) throw err
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  }
}

describe(`metrics with WEB_CONCURRENCY=2 (${testDialect})`, () => {
  let db: ServerDatabase
  let server: ServerProcess
  let metricsUrl: string

  const scrapeMain = async (): Promise<Sample[]> => {
    const res = await http(server.url, 'GET', '/metrics', {
      headers: { authorization: `Bearer ${TOKEN}` },
    })
    expect(res.status).toBe(200)
    return parseExposition(res.body)
  }

  beforeAll(async () => {
    db = await createServerDatabase(testDialect)
    server = await startServer(
      {
        WEB_CONCURRENCY: '2',
        DATABASE_URL: db.url,
        METRICS_TOKEN: TOKEN,
        METRICS_PORT: '0',
      },
      { workers: 2 },
    )
    const line = await server.waitFor((l) => l.msg === 'metrics listening')
    expect(line.pid).toBe(server.pid) // the primary, not a worker
    metricsUrl = String(line.url)
  }, 120_000)

  afterAll(async () => {
    await stopAllServers()
    await db?.drop()
  })

  it('sums every worker: the answer of any worker and of METRICS_PORT covers all', async () => {
    const ids = Array.from({ length: REQUESTS }, (_, i) => `m-${i}-${tag}`)
    for (const id of ids) {
      const res = await http(server.url, 'GET', '/healthz', { headers: { 'x-request-id': id } })
      expect(res.status).toBe(200)
    }
    const done = (l: { msg?: string; reqId?: unknown }) =>
      l.msg === 'request completed' && ids.includes(String(l.reqId))
    await server.waitFor(() => server.lines.filter(done).length === REQUESTS)
    // Both workers served some, so no single worker's own count is the total.
    const pids = new Set(server.lines.filter(done).map((l) => l.pid))
    expect(pids.size).toBe(2)

    const healthz = (samples: Sample[]) =>
      sampleValue(samples, 'keygate_http_request_duration_seconds_count', { route: '/healthz' })
    // Scrapes also land on either worker; each must see the whole cluster.
    for (let i = 0; i < 4; i++) expect(healthz(await scrapeMain())).toBe(REQUESTS)

    const viaPort = await http(metricsUrl, 'GET', '')
    expect(viaPort.status).toBe(200)
    expect(String(viaPort.headers['content-type'])).toMatch(/^text\/plain; version=0\.0\.4/)
    expect(healthz(parseExposition(viaPort.body))).toBe(REQUESTS)
  })

  it('still refuses the main port without the token; METRICS_PORT needs none', async () => {
    const res = await http(server.url, 'GET', '/metrics')
    expect(res.status).toBe(401)
    expect(res.body).toEqual({ detail: 'Not authenticated' })
    const wrong = await http(server.url, 'GET', '/metrics', {
      headers: { authorization: 'Bearer not-the-metrics-token-but-just-as-long' },
    })
    expect(wrong.status).toBe(403)
    expect((await http(metricsUrl, 'GET', '')).status).toBe(200)
  })

  it('counts sign-ins made on either worker', async () => {
    const before = await scrapeMain()
    const count = (samples: Sample[], outcome: string) =>
      sampleValue(samples, 'keygate_sign_ins_total', { outcome }) ?? 0
    const user = { email: `metrics-${tag}@example.com`, password: strongPassword() }
    expect((await http(server.url, 'POST', '/api/v1/auth/signup', { json: user })).status).toBe(201)
    for (let i = 0; i < 4; i++) {
      const ok = await http(server.url, 'POST', '/api/v1/auth/login', { json: user })
      expect(ok.status).toBe(200)
    }
    const bad = { ...user, password: 'wrong-password' }
    expect((await http(server.url, 'POST', '/api/v1/auth/login', { json: bad })).status).toBe(401)
    const after = await scrapeMain()
    expect(count(after, 'success') - count(before, 'success')).toBe(4)
    expect(count(after, 'invalid_credentials') - count(before, 'invalid_credentials')).toBe(1)
    // Process metrics of both workers are in the sum too.
    expect(sampleValue(after, 'process_resident_memory_bytes')).toBeGreaterThan(0)
  })

  it.runIf(testDialect === 'postgres')('sums the workers’ PostgreSQL pools', async () => {
    expect((await http(server.url, 'GET', '/readyz')).status).toBe(200)
    const samples = await scrapeMain()
    // Each worker has its own pool of DB_POOL_SIZE (10), opened lazily.
    expect(sampleValue(samples, 'keygate_db_pool_max_connections')).toBe(20)
    expect(sampleValue(samples, 'keygate_db_pool_connections')).toBeGreaterThanOrEqual(1)
  })

  it.skipIf(!hasPromtool)('passes promtool check metrics, summed as it is', async () => {
    const res = await http(server.url, 'GET', '/metrics', {
      headers: { authorization: `Bearer ${TOKEN}` },
    })
    const problems = promtoolCheck(res.body)
      .output.split('\n')
      .filter((l) => l !== '')
    expect(
      problems.filter((l) => !/^nodejs_active_(handles|requests|resources)_total non-/.test(l)),
    ).toEqual([])
  })

  it.skipIf(!hasPrometheus)(
    'is scraped by a real Prometheus, on the main port with the token and on METRICS_PORT',
    { timeout: 60_000 },
    async () => {
      const hostOf = (url: string) => new URL(url).host
      const prometheus = await startPrometheus([
        { job: 'keygate', target: hostOf(server.url), bearer: TOKEN },
        { job: 'keygate-metrics-port', target: hostOf(metricsUrl) },
      ])
      try {
        await eventually(async () => {
          const up = await prometheus.query('up')
          expect(Object.fromEntries(up.map((r) => [r.metric.job, r.value]))).toEqual({
            keygate: 1,
            'keygate-metrics-port': 1,
          })
        })
        const success = await eventually(async () => {
          const [r] = await prometheus.query('keygate_sign_ins_total{outcome="success"}')
          expect(r).toBeDefined()
          return r!.value
        })
        expect(success).toBeGreaterThanOrEqual(4)
      } finally {
        await prometheus.stop()
      }
    },
  )
})
