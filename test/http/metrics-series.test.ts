import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import { describe, expect, it } from 'vitest'
import { createHashPool } from '../../src/services/crypto/hash-pool.js'
import { buildTestApp } from '../helpers/app.js'
import { testDialect } from '../helpers/db.js'
import { createUser, form, randomEmail } from '../helpers/factories.js'
import {
  hasPromtool,
  parseExposition,
  promtoolCheck,
  promtoolCheckRules,
  type Sample,
  sampleValue,
} from '../helpers/prometheus.js'
import { throttled } from '../helpers/rate-limit.js'

const TOKEN = 'metrics-token-that-is-at-least-32-bytes'
const CLIENT_IP = '198.51.100.23'

async function scrape(app: FastifyInstance): Promise<{ text: string; samples: Sample[] }> {
  const res = await app.inject({
    method: 'GET',
    url: '/metrics',
    headers: { authorization: `Bearer ${TOKEN}` },
  })
  expect(res.statusCode).toBe(200)
  return { text: res.body, samples: parseExposition(res.body) }
}

const signIns = (samples: Sample[]) =>
  Object.fromEntries(
    samples
      .filter((s) => s.name === 'keygate_sign_ins_total')
      .map((s) => [s.labels.outcome, s.value]),
  )

// Every request comes through a trusted proxy from CLIENT_IP, so the scan
// below would find the client address if any label carried it.
const login = (app: FastifyInstance, email: string, password: string) =>
  app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    headers: { 'x-forwarded-for': CLIENT_IP },
    payload: { email, password },
  })

describe('metrics series', () => {
  const setup = () =>
    buildTestApp(
      throttled({ accountClientFailures: 2 }, { metricsToken: TOKEN, trustProxy: ['127.0.0.1'] }),
    )

  it('counts sign-ins by outcome as they succeed and fail', async () => {
    const { app, database } = await setup()
    expect(signIns((await scrape(app)).samples)).toEqual({
      success: 0,
      invalid_credentials: 0,
      inactive: 0,
      throttled: 0,
      error: 0,
    })
    const user = await createUser(app)
    expect((await login(app, user.email, user.password)).statusCode).toBe(200)
    const viaForm = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/token',
      ...form({ username: user.email, password: user.password }),
    })
    expect(viaForm.statusCode).toBe(200)
    expect((await login(app, user.email, 'wrong-password')).statusCode).toBe(401)
    expect((await login(app, randomEmail(), 'whatever-password')).statusCode).toBe(401)
    expect(signIns((await scrape(app)).samples)).toMatchObject({
      success: 2,
      invalid_credentials: 2,
      inactive: 0,
      throttled: 0,
    })

    // Two failures per account and client are free here; the next attempt is refused.
    const victim = await createUser(app)
    await login(app, victim.email, 'wrong-1')
    await login(app, victim.email, 'wrong-2')
    expect((await login(app, victim.email, victim.password)).statusCode).toBe(429)

    await database.db.updateTable('users').set({ is_active: 0 }).where('id', '=', user.id).execute()
    expect((await login(app, user.email, user.password)).statusCode).toBe(403)

    const { samples } = await scrape(app)
    expect(signIns(samples)).toEqual({
      success: 2,
      invalid_credentials: 4,
      inactive: 1,
      throttled: 1,
      error: 0,
    })
    const decisions = (rule: string, decision: string) =>
      sampleValue(samples, 'keygate_throttle_decisions_total', { rule, decision })
    expect(decisions('account_client_backoff', 'refused')).toBe(1)
    // Every attempt but the refused one passed the backoff rule and the hourly ceiling.
    expect(decisions('account_client_backoff', 'allowed')).toBe(7)
    expect(decisions('account_hourly', 'allowed')).toBe(8)
    expect(decisions('account_hourly', 'refused')).toBe(0)
    // Two signups and eight sign-ins went through the per-client request budget.
    expect(decisions('client_requests', 'allowed')).toBe(10)
    expect(decisions('signup_conflicts', 'allowed')).toBe(2)
  })

  it('labels requests by route pattern and status, never by the URL', async () => {
    const { app } = await setup()
    const id = randomUUID()
    expect((await app.inject({ method: 'GET', url: `/api/v1/posts/${id}` })).statusCode).toBe(404)
    await app.inject({ method: 'GET', url: `/no/such/${id}?email=a@example.com` })
    await app.inject({ method: 'GET', url: '/healthz' })
    const { text, samples } = await scrape(app)
    const count = (labels: Record<string, string>) =>
      sampleValue(samples, 'keygate_http_request_duration_seconds_count', labels)
    expect(count({ method: 'GET', route: '/api/v1/posts/:id', status_code: '404' })).toBe(1)
    expect(count({ method: 'GET', route: 'unmatched', status_code: '404' })).toBe(1)
    expect(count({ method: 'GET', route: '/healthz', status_code: '200' })).toBe(1)
    expect(text).not.toContain(id)
  })

  it('carries no user id, email, username or client address in any label', async () => {
    const { app, clock } = await setup()
    const user = await createUser(app, { username: `metrics_${randomUUID().slice(0, 8)}` })
    const ok = await login(app, user.email, user.password)
    const tokens = ok.json()
    await login(app, user.email, 'wrong-password')
    await login(app, `${user.username}`, user.password)
    await app.inject({
      method: 'GET',
      url: `/api/v1/users/${user.id}`,
      headers: { authorization: `Bearer ${tokens.access_token}`, 'x-forwarded-for': CLIENT_IP },
    })
    const refresh = (token: string) =>
      app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: token } })
    await refresh(tokens.refresh_token)
    clock.advanceSeconds(60)
    await refresh(tokens.refresh_token)

    const { text, samples } = await scrape(app)
    const secrets = [user.id, user.email, user.username!, CLIENT_IP, tokens.refresh_token]
    for (const secret of secrets) expect(text).not.toContain(secret)
    for (const sample of samples) {
      for (const value of Object.values(sample.labels)) {
        expect(value, `${sample.name} ${value}`).not.toMatch(
          /@|[0-9a-f]{8}-[0-9a-f]{4}-|\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b/i,
        )
      }
    }
  })

  it('counts a refresh reuse after the grace window, not within it', async () => {
    const { app, clock, config } = await setup()
    const user = await createUser(app)
    const tokens = (await login(app, user.email, user.password)).json()
    const refresh = () =>
      app.inject({
        method: 'POST',
        url: '/api/v1/auth/refresh',
        payload: { refresh_token: tokens.refresh_token },
      })
    const reuses = async () =>
      sampleValue((await scrape(app)).samples, 'keygate_refresh_reuse_detections_total')
    expect(await reuses()).toBe(0)
    expect((await refresh()).statusCode).toBe(200)
    expect((await refresh()).statusCode).toBe(200) // a second tab, within the grace window
    expect(await reuses()).toBe(0)
    clock.advanceSeconds(config.refreshReuseGraceSeconds + 1)
    expect((await refresh()).statusCode).toBe(401)
    expect(await reuses()).toBe(1)
  })

  it('times how long password hashes wait for a thread', async () => {
    const { app } = await buildTestApp({
      metricsToken: TOKEN,
      hashConcurrency: 1,
      argon2: { memoryCost: 8192, timeCost: 2, parallelism: 1 },
    })
    const signups = Array.from({ length: 4 }, () => createUser(app))
    await Promise.all(signups)
    const { samples } = await scrape(app)
    expect(sampleValue(samples, 'keygate_password_hash_wait_seconds_count')).toBe(4)
    // One thread, four hashes at once: three of them queued behind at least one hash.
    expect(sampleValue(samples, 'keygate_password_hash_wait_seconds_sum')).toBeGreaterThan(0.003)
    expect(sampleValue(samples, 'keygate_password_hash_queue_depth')).toBe(0)
  })

  it.runIf(testDialect === 'postgres')('reports the PostgreSQL pool', async () => {
    const { app } = await setup()
    const { samples } = await scrape(app)
    expect(sampleValue(samples, 'keygate_db_pool_max_connections')).toBe(5)
    expect(sampleValue(samples, 'keygate_db_pool_connections')).toBeGreaterThanOrEqual(1)
    expect(sampleValue(samples, 'keygate_db_pool_idle_connections')).toBeGreaterThanOrEqual(0)
    expect(sampleValue(samples, 'keygate_db_pool_waiting_queries')).toBe(0)
  })

  it.runIf(testDialect === 'sqlite')('has no pool series on SQLite (one connection)', async () => {
    const { app } = await setup()
    const { text } = await scrape(app)
    expect(text).not.toContain('keygate_db_pool_')
  })
})

describe('the hash pool observer', () => {
  it('reports the queue depth as hashes wait and start, and 0 once drained', async () => {
    const depths: number[] = []
    const waits: number[] = []
    const pool = createHashPool(1, 0, {
      depth: (n) => depths.push(n),
      waited: (ms) => waits.push(ms),
    })
    const options = { algorithm: 2, memoryCost: 1024, timeCost: 1, parallelism: 1 }
    await Promise.all([1, 2, 3].map((i) => pool.argon2Hash(`password-${i}`, options)))
    await pool.close()
    expect(Math.max(...depths)).toBe(2)
    expect(depths.at(-1)).toBe(0)
    expect(waits).toHaveLength(3)
    expect(waits.every((ms) => ms >= 0)).toBe(true)
  })
})

describe.skipIf(!hasPromtool)(
  `promtool check metrics${hasPromtool ? '' : ' (skipped: promtool not installed; apt-get install prometheus)'}`,
  () => {
    it('accepts the exposition: it parses, and every keygate_ series passes the linter', async () => {
      const { app } = await buildTestApp(throttled({}, { metricsToken: TOKEN }))
      const user = await createUser(app)
      await login(app, user.email, user.password)
      await login(app, user.email, 'wrong-password')
      const { text } = await scrape(app)
      const { status, output } = promtoolCheck(text)
      // 3 is "lint problems"; the only ones are prom-client's own gauge names.
      const problems = output.split('\n').filter((l) => l !== '')
      const foreign = problems.filter(
        (l) => !/^nodejs_active_(handles|requests|resources)_total non-counter/.test(l),
      )
      expect(foreign).toEqual([])
      expect(status === 0 || (status === 3 && problems.length > 0)).toBe(true)
    })

    it('accepts the alert rules of docs/operations.md, which name only real series', async () => {
      const doc = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8')
      const rules = /<!-- keygate-alert-rules -->\n```yaml\n([\s\S]*?)```/.exec(doc)?.[1]
      expect(rules).toBeDefined()
      const { status, output } = promtoolCheckRules(rules!)
      expect(status, output).toBe(0)
      expect(output).toMatch(/SUCCESS: 8 rules found/)

      const { app } = await buildTestApp({ metricsToken: TOKEN })
      const { text } = await scrape(app)
      const names = new Set(rules!.match(/keygate_[a-z_]+/g))
      expect(names.size).toBeGreaterThanOrEqual(6)
      for (const name of names) {
        const family = name.replace(/_(bucket|count|sum)$/, '')
        // The pool series exist only on PostgreSQL.
        if (testDialect === 'sqlite' && family.startsWith('keygate_db_pool_')) continue
        expect(text, name).toContain(`# TYPE ${family} `)
      }
    })
  },
)
