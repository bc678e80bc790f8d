import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testDialect } from '../helpers/db.js'
import { strongPassword } from '../helpers/factories.js'
import { createServerDatabase, type ServerDatabase } from '../helpers/server-db.js'
import {
  http,
  type LogLine,
  type ServerProcess,
  startServer,
  stopAllServers,
} from '../helpers/server-process.js'

const tag = randomBytes(4).toString('hex')
const ids = (name: string, n: number) => Array.from({ length: n }, (_, i) => `${name}-${i}-${tag}`)
const forIds = (list: string[], msg: string) => (l: LogLine) =>
  l.msg === msg && typeof l.reqId === 'string' && list.includes(l.reqId)

describe(`WEB_CONCURRENCY=2 (${testDialect})`, () => {
  let db: ServerDatabase
  let dataDir: string
  let server: ServerProcess

  beforeAll(async () => {
    db = await createServerDatabase(testDialect)
    dataDir = mkdtempSync(join(tmpdir(), 'keygate-data-'))
    server = await startServer(
      {
        WEB_CONCURRENCY: '2',
        DATABASE_URL: db.url,
        DATA_DIR: dataDir,
        // No SECRET_KEY: the primary creates the dev secret file once, workers read it.
        SECRET_KEY: '',
        // Slow enough hashing that signups are still running when SIGTERM arrives.
        ARGON2_MEMORY_KIB: '19456',
        ARGON2_TIME_COST: '4',
        HASH_CONCURRENCY: '1',
        // The drain test below waits for `incoming request`, which is a debug line.
        LOG_LEVEL: 'debug',
      },
      { workers: 2 },
    )
  }, 120_000)

  afterAll(async () => {
    await stopAllServers()
    await db?.drop()
    if (dataDir) rmSync(dataDir, { recursive: true, force: true })
  })

  it('runs the migrations once, in the primary', () => {
    const migrated = server.lines.filter((l) => l.msg === 'migrations checked')
    expect(migrated).toHaveLength(1)
    expect(migrated[0]?.pid).toBe(server.pid)
    expect(migrated[0]?.applied).toContain('0001_users')
    expect(existsSync(join(dataDir, 'secret.key'))).toBe(true)
  })

  it('serves requests from two worker processes, which accept each other’s tokens', async () => {
    const list = ids('pid', 12)
    for (const id of list) {
      const res = await http(server.url, 'GET', '/readyz', { headers: { 'x-request-id': id } })
      expect(res.status).toBe(200)
    }
    const done = forIds(list, 'request completed')
    await server.waitFor(() => server.lines.filter(done).length === list.length)
    const pids = new Set(server.lines.filter(done).map((l) => l.pid))
    expect(pids.size).toBe(2)
    expect(pids.has(server.pid)).toBe(false)

    const user = { email: `wc-${tag}@example.com`, password: strongPassword() }
    expect((await http(server.url, 'POST', '/api/v1/auth/signup', { json: user })).status).toBe(201)
    const login = await http(server.url, 'POST', '/api/v1/auth/login', { json: user })
    expect(login.status).toBe(200)
    const headers = { authorization: `Bearer ${login.body.access_token}` }
    for (let i = 0; i < 4; i++) {
      expect((await http(server.url, 'GET', '/api/v1/users/me', { headers })).status).toBe(200)
    }
  })

  it('a logout on one worker is refused by every worker on the next request', async () => {
    const user = { email: `wc-out-${tag}@example.com`, password: strongPassword() }
    expect((await http(server.url, 'POST', '/api/v1/auth/signup', { json: user })).status).toBe(201)
    const login = await http(server.url, 'POST', '/api/v1/auth/login', { json: user })
    const headers = { authorization: `Bearer ${login.body.access_token}` }
    // Both workers answer (and remember) the session first.
    const warm = ids('warm', 10)
    for (const id of warm) {
      const res = await http(server.url, 'GET', '/api/v1/users/me', {
        headers: { ...headers, 'x-request-id': id },
      })
      expect(res.status).toBe(200)
    }
    const served = forIds(warm, 'request completed')
    await server.waitFor(() => server.lines.filter(served).length === warm.length)
    expect(new Set(server.lines.filter(served).map((l) => l.pid)).size).toBe(2)

    expect((await http(server.url, 'POST', '/api/v1/auth/logout', { headers })).status).toBe(204)
    for (let i = 0; i < 10; i++) {
      expect((await http(server.url, 'GET', '/api/v1/users/me', { headers })).status).toBe(401)
    }
  })

  it('restarts a worker that dies', { timeout: 90_000 }, async () => {
    const workerPids = server.lines.filter((l) => l.msg === 'worker listening')
    const victim = Number(workerPids[0]?.workerPid)
    process.kill(victim, 'SIGKILL')
    await server.waitFor((l) => l.msg === 'worker died' && l.workerPid === victim)
    const before = new Set(workerPids.map((l) => l.workerPid))
    await server.waitFor((l) => l.msg === 'worker listening' && !before.has(l.workerPid))
    for (let i = 0; i < 4; i++) expect((await http(server.url, 'GET', '/healthz')).status).toBe(200)
  })

  it('drains in-flight requests on SIGTERM and exits 0', async () => {
    const list = ids('drain', 6)
    const pending = list.map((id) =>
      http(server.url, 'POST', '/api/v1/auth/signup', {
        json: { email: `${id}@example.com`, password: strongPassword() },
        headers: { 'x-request-id': id },
      }),
    )
    const incoming = forIds(list, 'incoming request')
    await server.waitFor(() => server.lines.filter(incoming).length === list.length)
    const exit = server.stop('SIGTERM')
    const statuses = (await Promise.all(pending)).map((r) => r.status)
    expect(statuses).toEqual(list.map(() => 201))
    expect(await exit).toBe(0)

    // Proof that some requests were still running when their worker began draining.
    const lines = server.lines
    const drainedLate = lines.some((line, i) => {
      if (!forIds(list, 'request completed')(line)) return false
      return lines
        .slice(0, i)
        .some((l) => l.pid === line.pid && l.msg === 'shutting down: draining in-flight requests')
    })
    expect(drainedLate).toBe(true)
    expect(lines.filter((l) => l.msg === 'worker died')).toHaveLength(1) // only the one we killed
  })
})

describe('WEB_CONCURRENCY start-up failure', () => {
  afterAll(stopAllServers)

  it('stops with exit code 1 instead of restarting workers that can never listen', async () => {
    const taken = net.createServer()
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
    const port = (taken.address() as net.AddressInfo).port
    const dir = mkdtempSync(join(tmpdir(), 'keygate-'))
    try {
      await expect(
        startServer({
          WEB_CONCURRENCY: '2',
          PORT: String(port),
          DATABASE_URL: `sqlite:${join(dir, 'k.db')}`,
        }),
      ).rejects.toThrow(/exited \(1\)/)
    } finally {
      taken.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }, 120_000)
})
