import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import SQLite from 'better-sqlite3'
import { describe, expect, it, onTestFinished } from 'vitest'
import { createDatabase } from '../../src/db/database.js'
import { buildTestApp } from '../helpers/app.js'
import { createUser, form, loginAs, strongPassword } from '../helpers/factories.js'
import { blackHole, deadPort } from '../helpers/tcp-proxy.js'

const UNAVAILABLE = { detail: 'Service temporarily unavailable' }

/** A token that verifies (same test secret) from an app whose database works. */
async function validBearer() {
  const { app } = await buildTestApp()
  const { headers } = await loginAs(app, await createUser(app))
  return headers
}

const calls = (headers: Record<string, string>) => [
  { method: 'GET' as const, url: '/readyz' },
  {
    method: 'POST' as const,
    url: '/api/v1/auth/signup',
    payload: { email: 'new@example.com', password: strongPassword() },
  },
  {
    method: 'POST' as const,
    url: '/api/v1/auth/login',
    payload: { email: 'a@b.co', password: 'x' },
  },
  {
    method: 'POST' as const,
    url: '/api/v1/auth/token',
    ...form({ username: 'a@b.co', password: 'x' }),
  },
  { method: 'GET' as const, url: '/api/v1/users/me', headers },
  { method: 'GET' as const, url: '/api/v1/posts' },
]

// /readyz says which dependency failed; every other route the one 503 body.
const expected = (url: string) =>
  url === '/readyz'
    ? { detail: 'Not ready: database unreachable', failed: ['database'] }
    : UNAVAILABLE

describe('database unreachable', () => {
  it('answers 503 at once on every route when nothing listens on the database port', async () => {
    const headers = await validBearer()
    const url = `postgres://postgres@127.0.0.1:${await deadPort()}/test`
    // MIGRATE_ON_START=off: the server starts without its database and reports 503.
    const { app } = await buildTestApp(
      { migrateOnStart: false },
      { database: createDatabase(url, { timeoutMs: 1000 }) },
    )
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200)
    const started = Date.now()
    for (const call of calls(headers)) {
      const res = await app.inject(call)
      expect(res.statusCode, call.url).toBe(503)
      expect(res.json(), call.url).toEqual(expected(call.url))
      expect(res.headers['retry-after']).toBe('5')
    }
    expect(Date.now() - started).toBeLessThan(3000)
  })

  it('answers 503 within the connect timeout when the database accepts and never answers', async () => {
    const hole = await blackHole()
    onTestFinished(hole.close)
    const headers = await validBearer()
    const url = `postgres://postgres@127.0.0.1:${hole.port}/test`
    const { app } = await buildTestApp(
      { migrateOnStart: false },
      { database: createDatabase(url, { timeoutMs: 300 }) },
    )
    for (const call of calls(headers).slice(0, 3)) {
      const started = Date.now()
      const res = await app.inject(call)
      expect(res.statusCode, call.url).toBe(503)
      expect(res.json()).toEqual(expected(call.url))
      expect(Date.now() - started).toBeLessThan(2000)
    }
  })
})

describe('SQLite locked by another process', () => {
  it('answers 503 after the busy timeout and recovers when the lock is released', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keygate-'))
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
    const file = join(dir, 'keygate.db')
    const database = createDatabase(`sqlite:${file}`, { timeoutMs: 100 })
    const { app } = await buildTestApp({}, { database })
    await createUser(app)

    // Another worker holds the write lock (as a long transaction would).
    const other = new SQLite(file)
    onTestFinished(() => {
      other.close()
    })
    other.exec('BEGIN IMMEDIATE')
    const signup = () =>
      app.inject({
        method: 'POST',
        url: '/api/v1/auth/signup',
        payload: {
          email: `${Math.random().toString(36).slice(2)}@example.com`,
          password: strongPassword(),
        },
      })
    const blocked = await signup()
    expect(blocked.statusCode).toBe(503)
    expect(blocked.json()).toEqual(UNAVAILABLE)

    other.exec('ROLLBACK')
    expect((await signup()).statusCode).toBe(201)
  })
})
