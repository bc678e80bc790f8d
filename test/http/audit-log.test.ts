import { describe, expect, it, vi } from 'vitest'
import { createDeps } from '../../src/deps.js'
import { createAuditEventsRepo } from '../../src/repos/audit-events.js'
import { buildAdminApp } from '../helpers/accounts.js'
import { auditRows } from '../helpers/audit.js'
import { createUser, form, loginAs } from '../helpers/factories.js'
import { throttled } from '../helpers/rate-limit.js'

type Page = {
  items: { id: string; type: string; user_id: string | null }[]
  next_cursor: string | null
}

const failedRows = async (database: Parameters<typeof auditRows>[0]) =>
  (await auditRows(database))
    .filter((r) => r.type === 'sign_in_failed')
    .map((r) => ({
      user_id: r.user_id,
      ip: r.ip,
      count: Number(r.count),
      details: JSON.parse(r.details),
    }))

describe('failed sign-ins in the audit log', () => {
  it('fold a spray of guesses into one row per account, client and minute, with a count', async () => {
    const { app, database, clock } = await buildAdminApp()
    const user = await createUser(app)
    const attempt = (username: string, ip: string) =>
      app.inject({
        method: 'POST',
        url: '/api/v1/auth/token',
        remoteAddress: ip,
        ...form({ username, password: 'not-the-password' }),
      })
    // In bursts, as an attacker would send them: the folding must hold under concurrency.
    for (let burst = 0; burst < 10; burst++) {
      const guesses = Array.from({ length: 20 }, (_, i) => [
        attempt(user.email, '192.0.2.1'),
        attempt(`nobody-${burst}-${i}@example.com`, '192.0.2.1'),
      ])
      for (const res of await Promise.all(guesses.flat())) expect(res.statusCode).toBe(400)
    }
    // The two rows were opened by concurrent requests: either may be first.
    expect(await failedRows(database)).toEqual(
      expect.arrayContaining([
        { user_id: user.id, ip: '192.0.2.1', count: 200, details: { reason: 'wrong_password' } },
        { user_id: null, ip: '192.0.2.1', count: 200, details: { reason: 'unknown_account' } },
      ]),
    )
    expect(await failedRows(database)).toHaveLength(2)

    // Another client, and the next minute, each start a row of their own.
    await attempt(user.email, '192.0.2.2')
    clock.advanceSeconds(60)
    await attempt(user.email, '192.0.2.1')
    expect((await failedRows(database)).map((r) => [r.ip, r.count])).toEqual([
      ['192.0.2.1', 200],
      ['192.0.2.1', 200],
      ['192.0.2.2', 1],
      ['192.0.2.1', 1],
    ])
  }, 120_000)

  it('record throttled attempts with their reason, folded the same way', async () => {
    const { app, database } = await buildAdminApp(throttled())
    const user = await createUser(app)
    const statuses: number[] = []
    for (let i = 0; i < 30; i++) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/token',
        remoteAddress: '192.0.2.3',
        ...form({ username: user.email, password: `guess-${i}` }),
      })
      statuses.push(res.statusCode)
    }
    const refused = statuses.filter((s) => s === 429).length
    expect(refused).toBeGreaterThan(0)
    const rows = await failedRows(database)
    expect(rows.map((r) => r.details.reason).sort()).toEqual(['throttled', 'wrong_password'])
    const count = (reason: string) => rows.find((r) => r.details.reason === reason)?.count
    expect(count('throttled')).toBe(refused)
    expect(count('wrong_password')).toBe(30 - refused)
  }, 60_000)
})

describe('GET /api/v1/audit', () => {
  it('is for superusers: 401 without a token, 403 for a user, 422 for a bad cursor or date', async () => {
    const { app, admin } = await buildAdminApp()
    const user = await loginAs(app, await createUser(app))
    const get = (url: string, headers = admin.headers) =>
      app.inject({ method: 'GET', url, headers })
    expect((await get('/api/v1/audit', {} as typeof admin.headers)).statusCode).toBe(401)
    expect((await get('/api/v1/audit', user.headers)).statusCode).toBe(403)
    for (const bad of [
      'cursor=abc',
      'cursor=-1',
      'since=yesterday',
      'user_id=1',
      'limit=0',
      'limit=101',
    ])
      expect((await get(`/api/v1/audit?${bad}`)).statusCode, bad).toBe(422)
    expect((await get('/api/v1/audit')).statusCode).toBe(200)
  })

  it('filters by user, type and time', async () => {
    const { app, admin, clock } = await buildAdminApp()
    clock.advanceSeconds(1) // after the admin's own creation
    const start = clock.now().toISOString()
    const a = await createUser(app)
    clock.advanceSeconds(10)
    const middle = clock.now().toISOString()
    const b = await createUser(app)
    await loginAs(app, b)
    const get = async (query: string) => {
      const res = await app.inject({
        method: 'GET',
        url: `/api/v1/audit?${query}`,
        headers: admin.headers,
      })
      expect(res.statusCode, res.body).toBe(200)
      return (res.json() as Page).items.map((e) => [e.type, e.user_id])
    }
    expect(await get(`user_id=${a.id}`)).toEqual([['user_created', a.id]])
    expect(await get(`user_id=${b.id}`)).toEqual([
      ['sign_in_succeeded', b.id],
      ['user_created', b.id],
    ])
    expect(await get(`type=user_created&since=${start}`)).toEqual([
      ['user_created', b.id],
      ['user_created', a.id],
    ])
    expect(await get(`type=user_created&since=${middle}`)).toEqual([['user_created', b.id]])
    expect(await get(`type=user_created&since=${start}&until=${middle}`)).toEqual([
      ['user_created', a.id],
    ])
  })

  it('pages newest first, stable while events are being written', async () => {
    const { app, admin, database } = await buildAdminApp()
    const repo = createAuditEventsRepo(database.db)
    const write = (n: number, tag: string) =>
      Promise.all(
        Array.from({ length: n }, (_, i) =>
          repo.record({ type: 'user_created', details: { tag, i } }, new Date()),
        ),
      )
    const before = (await auditRows(database)).length
    await write(30, 'old')
    const expected = (await auditRows(database)).map((r) => String(r.id)).reverse()
    expect(expected).toHaveLength(before + 30)

    const seen: string[] = []
    let cursor: string | null = null
    do {
      // Writers run while the page is read, and between pages.
      const query: string = `limit=7${cursor ? `&cursor=${cursor}` : ''}`
      const [res] = await Promise.all([
        app.inject({ method: 'GET', url: `/api/v1/audit?${query}`, headers: admin.headers }),
        write(3, 'during'),
      ])
      await write(2, 'between')
      expect(res.statusCode, res.body).toBe(200)
      const page: Page = res.json()
      if (seen.length === 0) {
        // The first page may include what was written while it was read; skip those.
        const first = page.items.map((e) => e.id)
        seen.push(...first.filter((id) => expected.includes(id)))
      } else seen.push(...page.items.map((e) => e.id))
      cursor = page.next_cursor
    } while (cursor !== null)
    expect(seen).toEqual(expected)
  })
})

describe('GET /api/v1/users/me/security-events', () => {
  it("lists the caller's own events only, newest first, page by page", async () => {
    const { app } = await buildAdminApp()
    const me = await createUser(app)
    const other = await createUser(app)
    await loginAs(app, other)
    const session = await loginAs(app, me)
    await loginAs(app, me)
    await app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      headers: session.headers,
      payload: {},
    })
    const mine = await loginAs(app, me)
    const pages: string[][] = []
    let cursor: string | null = null
    do {
      const res = await app.inject({
        method: 'GET',
        url: `/api/v1/users/me/security-events?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        headers: mine.headers,
      })
      expect(res.statusCode, res.body).toBe(200)
      const page: Page = res.json()
      for (const e of page.items) expect(e.user_id).toBe(me.id)
      pages.push(page.items.map((e) => e.type))
      cursor = page.next_cursor
    } while (cursor !== null)
    expect(pages).toEqual([
      ['sign_in_succeeded', 'logged_out'],
      ['sign_in_succeeded', 'sign_in_succeeded'],
      ['user_created'],
    ])
    const anonymous = await app.inject({ method: 'GET', url: '/api/v1/users/me/security-events' })
    expect(anonymous.statusCode).toBe(401)
  })
})

describe('audit retention', () => {
  it('the pruner deletes events older than AUDIT_RETENTION_DAYS, by the injected clock', async () => {
    const { app, database, clock, config } = await buildAdminApp({ auditRetentionDays: 30 })
    const deps = await createDeps(config, { database, clock })
    try {
      const old = await createUser(app)
      clock.advanceSeconds(29 * 86_400)
      const recent = await createUser(app)
      const users = async () => (await auditRows(database)).map((r) => r.user_id)
      expect(await deps.services.audit.prune()).toEqual({ auditEvents: 0 })
      clock.advanceSeconds(2 * 86_400)
      // The admin's own creation and sign-in were on day 0 too.
      expect(await deps.services.audit.prune()).toEqual({ auditEvents: 3 })
      expect(await users()).toEqual([recent.id])
      expect(await users()).not.toContain(old.id)
    } finally {
      await deps.close()
    }
  })

  it("runs in the app's hourly pruner", async () => {
    // Only the interval timers are faked: the app's hourly tick is what is tested.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    try {
      const { app, database, clock } = await buildAdminApp({ auditRetentionDays: 1 })
      await createUser(app)
      expect((await auditRows(database)).length).toBeGreaterThan(0)
      clock.advanceSeconds(2 * 86_400)
      vi.advanceTimersByTime(60 * 60 * 1000)
      await vi.waitFor(async () => expect(await auditRows(database)).toEqual([]))
    } finally {
      vi.useRealTimers()
    }
  })
})
