import { randomBytes } from 'node:crypto'
import { sql } from 'kysely'
import pg from 'pg'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import { buildTestApp } from '../helpers/app.js'
import { createTestDatabase, TEST_POSTGRES_URL, testDialect } from '../helpers/db.js'
import { createUser, loginAs } from '../helpers/factories.js'
import { createTcpProxy } from '../helpers/tcp-proxy.js'

const UNAVAILABLE = { detail: 'Service temporarily unavailable' }

async function adminClient(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL })
  await client.connect()
  onTestFinished(() => client.end())
  return client
}

/** Backends of one application_name, so other tests' connections are never touched. */
const BACKENDS = `select pid, wait_event_type from pg_stat_activity
  where datname = current_database() and pid <> pg_backend_pid() and application_name = $1`
/** The same without the liveness cache's LISTEN connection, which reconnects by itself. */
const POOLED = `${BACKENDS} and query <> 'listen keygate_changes'`

describe.skipIf(testDialect !== 'postgres')('PostgreSQL outages', () => {
  it('answers 503 while the database is gone and recovers by itself when it is back', async () => {
    const proxy = await createTcpProxy(Number(new URL(TEST_POSTGRES_URL).port || 5432))
    onTestFinished(proxy.close)
    const url = new URL(TEST_POSTGRES_URL)
    url.port = String(proxy.port)
    const database = await createTestDatabase({ url: url.toString(), timeoutMs: 1000 })
    const { app } = await buildTestApp({}, { database })
    const user = await createUser(app)
    const { headers } = await loginAs(app, user)
    const me = () => app.inject({ method: 'GET', url: '/api/v1/users/me', headers })
    expect((await me()).statusCode).toBe(200)

    await proxy.cut()
    const ready = await app.inject({ method: 'GET', url: '/readyz' })
    expect(ready.statusCode).toBe(503)
    const down = await me()
    expect(down.statusCode).toBe(503)
    expect(down.json()).toEqual(UNAVAILABLE)

    await proxy.restore()
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200)
    expect((await me()).statusCode).toBe(200)
    await loginAs(app, user)
  })

  it('fails only the in-flight request (503) when its connection is terminated', async () => {
    const applicationName = `kg_term_${randomBytes(5).toString('hex')}`
    const database = await createTestDatabase({ applicationName })
    const { app } = await buildTestApp({}, { database })
    const { headers } = await loginAs(app, await createUser(app))
    // A route that reads the database on every request (the guard's read is cached).
    const me = () => app.inject({ method: 'GET', url: '/api/v1/users/me/sessions', headers })
    expect((await me()).statusCode).toBe(200)
    const { rows } = await sql<{ s: string }>`select current_schema() as s`.execute(database.db)
    const schema = rows[0]?.s

    // Hold a request in flight: it waits on a lock another session keeps.
    const locker = await adminClient()
    await locker.query('begin')
    await locker.query(`lock table ${schema}.sessions in access exclusive mode`)
    const inFlight = me()
    await vi.waitFor(
      async () => {
        const { rows } = await locker.query(BACKENDS, [applicationName])
        expect(rows.some((r) => r.wait_event_type === 'Lock')).toBe(true)
      },
      { timeout: 5000, interval: 20 },
    )

    await locker.query(`select pg_terminate_backend(pid) from (${BACKENDS}) b`, [applicationName])
    const failed = await inFlight
    expect(failed.statusCode).toBe(503)
    expect(failed.json()).toEqual(UNAVAILABLE)
    await locker.query('rollback')

    // Once the server has dropped them, the pool replaces the dead connections.
    await vi.waitFor(
      async () => {
        const { rows } = await locker.query(POOLED, [applicationName])
        expect(rows).toHaveLength(0)
      },
      { timeout: 5000, interval: 20 },
    )
    // An idle pooled connection whose close the client has not read yet may still
    // fail a request: that answer is a 503, never a 500, and the pool recovers by itself.
    const after: number[] = []
    for (let i = 0; i < 5; i++) after.push((await me()).statusCode)
    const firstOk = after.indexOf(200)
    expect(firstOk, `statuses after the cut: ${after}`).toBeGreaterThanOrEqual(0)
    expect(firstOk, `statuses after the cut: ${after}`).toBeLessThanOrEqual(2)
    expect(
      after.slice(0, firstOk).every((s) => s === 503),
      `${after}`,
    ).toBe(true)
    expect(
      after.slice(firstOk).every((s) => s === 200),
      `${after}`,
    ).toBe(true)
  })

  it('never answers 500 when connections are terminated under concurrent load', async () => {
    const applicationName = `kg_term_${randomBytes(5).toString('hex')}`
    const database = await createTestDatabase({ applicationName })
    const { app } = await buildTestApp({}, { database })
    const { headers } = await loginAs(app, await createUser(app))
    const me = () => app.inject({ method: 'GET', url: '/api/v1/users/me', headers })
    const admin = await adminClient()

    const burst = Array.from({ length: 20 }, me)
    await admin.query(`select pg_terminate_backend(pid) from (${BACKENDS}) b`, [applicationName])
    const statuses = (await Promise.all(burst)).map((r) => r.statusCode)
    for (const s of statuses) expect([200, 503]).toContain(s)

    await vi.waitFor(async () => expect((await me()).statusCode).toBe(200), { timeout: 5000 })
    for (let i = 0; i < 3; i++) expect((await me()).statusCode).toBe(200)
  })
})
