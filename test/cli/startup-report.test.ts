import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { startServer, stopAllServers } from '../helpers/server-process.js'
import { deadPort } from '../helpers/tcp-proxy.js'

afterAll(() => stopAllServers())

const WARN = 40

describe('keygate serve start-up, as a real process', () => {
  it('warns about RATE_LIMIT=off and misspelt settings, then prints one summary line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keygate-startup-'))
    try {
      const server = await startServer({
        // SQLAlchemy's absolute form: four slashes.
        DATABASE_URL: `sqlite:///${join(dir, 'app.db')}`,
        RATE_LIMIT: 'off',
        DATABSE_URL: 'postgres://ignored',
        SECERT_KEY: 'ignored',
      })
      const summary = await server.waitFor((l) => String(l.msg).startsWith('Keygate ('))
      const warnings = server.lines.filter((l) => l.level === WARN).map((l) => l.msg)
      expect(warnings).toEqual([
        'DATABSE_URL is not a Keygate setting and is ignored: did you mean DATABASE_URL?',
        'SECERT_KEY is not a Keygate setting and is ignored: did you mean SECRET_KEY?',
        expect.stringMatching(/^RATE_LIMIT=off: /),
      ])
      expect(summary).toMatchObject({
        mode: 'development',
        database: `SQLite ${join(dir, 'app.db')}`,
        keys: 'HS256 with SECRET_KEY',
        redis: expect.stringMatching(/^off/),
        docs: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/docs$/),
      })
      // The listen URL names the port actually bound (PORT=0 here), not 0.
      expect(summary.listen).toBe(server.url)
      await server.stop()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 90_000)

  it('an unreachable REDIS_URL is said at start, with its host and port', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keygate-startup-'))
    try {
      const port = await deadPort()
      const server = await startServer({
        DATABASE_URL: `sqlite:${join(dir, 'app.db')}`,
        REDIS_URL: `redis://127.0.0.1:${port}`,
      })
      await server.waitFor((l) => String(l.msg).startsWith('Keygate ('))
      const warnings = server.lines.filter((l) => l.level === WARN)
      expect(warnings).toEqual([
        expect.objectContaining({
          msg: 'not ready',
          dependency: 'redis',
          reason: expect.stringContaining(`redis at 127.0.0.1:${port}`),
        }),
        expect.objectContaining({
          msg: 'not ready at start-up: redis unreachable; answering 503 until then',
        }),
      ])
      await server.stop()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 90_000)

  it('MIGRATE_ON_START=off on a database without its tables says to run keygate migrate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keygate-startup-'))
    try {
      const server = await startServer({
        DATABASE_URL: `sqlite:${join(dir, 'app.db')}`,
        MIGRATE_ON_START: 'off',
      })
      await server.waitFor((l) => String(l.msg).startsWith('Keygate ('))
      const warnings = server.lines.filter((l) => l.level === WARN)
      expect(warnings).toEqual([
        expect.objectContaining({
          msg: expect.stringMatching(
            /^MIGRATE_ON_START=off and \d+ migration\(s\) are not applied: run `keygate migrate`/,
          ),
          pending: expect.arrayContaining(['0001_users']),
        }),
      ])
      await server.stop()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 90_000)

  it('WEB_CONCURRENCY=2 without REDIS_URL: the primary warns once that workers throttle alone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keygate-startup-'))
    try {
      const server = await startServer(
        { DATABASE_URL: `sqlite:${join(dir, 'app.db')}`, WEB_CONCURRENCY: '2' },
        { workers: 2 },
      )
      const summary = await server.waitFor((l) => String(l.msg).startsWith('Keygate ('))
      expect(summary).toMatchObject({ listen: server.url, workers: 2, pid: server.pid })
      const warnings = server.lines.filter((l) => l.level === WARN)
      expect(warnings.map((l) => l.msg)).toEqual([
        expect.stringMatching(
          /^WEB_CONCURRENCY=2 without REDIS_URL: each worker counts failures alone/,
        ),
      ])
      expect(warnings[0]?.pid).toBe(server.pid)
      await server.stop()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 90_000)
})
