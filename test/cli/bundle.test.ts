import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testDialect } from '../helpers/db.js'
import { strongPassword } from '../helpers/factories.js'
import { createServerDatabase, type ServerDatabase } from '../helpers/server-db.js'
import { http, type ServerProcess, startServer, stopAllServers } from '../helpers/server-process.js'

// `npm start` runs one esbuild bundle, not src/: what the bundle leaves to
// node_modules (native addons, Swagger UI's files, pg/ioredis/the password list
// loaded on demand) must still be found from it. Built here into node_modules/,
// so its externals resolve as dist/main.js's do.
const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const OUT = `${ROOT}node_modules/.keygate-bundle-test`
const METRICS_TOKEN = 'metrics-token-that-is-at-least-32-bytes'
const START_FLAGS = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8'))
  .scripts.start.split(' ')
  .filter((arg: string) => arg.startsWith('--'))

describe(`the built bundle, started with npm start's flags (${testDialect})`, () => {
  let db: ServerDatabase
  let server: ServerProcess

  beforeAll(async () => {
    const build = spawnSync(process.execPath, ['scripts/build.js', OUT], {
      cwd: ROOT,
      encoding: 'utf8',
    })
    expect(build.status, build.stderr).toBe(0)
    db = await createServerDatabase(testDialect)
    const redis = process.env.TEST_REDIS_URL
    server = await startServer(
      {
        DATABASE_URL: db.url,
        NODE_ENV: 'production',
        WEB_CONCURRENCY: '2',
        METRICS_TOKEN,
        ...(redis ? { REDIS_URL: redis } : {}),
      },
      { workers: 2, nodeArgs: [...START_FLAGS, `${OUT}/main.js`] },
    )
  }, 120_000)

  afterAll(async () => {
    await stopAllServers()
    await db?.drop()
    rmSync(OUT, { recursive: true, force: true })
  })

  it('runs the account flow: signup (password list, hash threads), token, users/me', async () => {
    const user = { email: `bundle-${randomBytes(4).toString('hex')}@example.com` }
    const password = strongPassword()
    const weak = await http(server.url, 'POST', '/api/v1/auth/signup', {
      json: { ...user, password: 'password123' },
    })
    expect(weak.status).toBe(422)
    const signup = await http(server.url, 'POST', '/api/v1/auth/signup', {
      json: { ...user, password },
    })
    expect(signup.status).toBe(201)
    const token = await http(server.url, 'POST', '/api/v1/auth/token', {
      form: { grant_type: 'password', username: user.email, password },
    })
    expect(token.status).toBe(200)
    expect(token.headers['cache-control']).toBe('no-store')
    const me = await http(server.url, 'GET', '/api/v1/users/me', {
      headers: { authorization: `Bearer ${token.body.access_token}` },
    })
    expect(me.status).toBe(200)
    expect(me.body.email).toBe(user.email)
  })

  // The browser script is bundled at build time into dist/ (no esbuild at run time).
  it('serves the prebuilt passkeys script', async () => {
    const script = await http(server.url, 'GET', '/assets/passkeys.js')
    expect(script.status).toBe(200)
    expect(String(script.headers['content-type'])).toMatch(/^text\/javascript/)
    expect(String(script.body)).toContain('navigator.credentials')
  })

  it('serves /docs with its static assets, and the OpenAPI document', async () => {
    const page = await http(server.url, 'GET', '/docs')
    expect(page.status).toBe(200)
    expect(String(page.headers['content-type'])).toMatch(/^text\/html/)
    const css = await http(server.url, 'GET', '/docs/static/swagger-ui.css')
    expect(css.status).toBe(200)
    expect(String(css.body).length).toBeGreaterThan(10_000)
    const openapi = await http(server.url, 'GET', '/openapi.json')
    expect(openapi.status).toBe(200)
    expect(Object.keys(openapi.body.paths)).toContain('/api/v1/users/me')
  })

  it('starts both workers with the flags', async () => {
    const pids = new Set(
      server.lines.filter((l) => l.msg === 'worker listening').map((l) => l.workerPid),
    )
    expect(pids.size).toBe(2)
    for (const pid of pids) {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
      expect(cmdline).toEqual(expect.arrayContaining(START_FLAGS))
    }
  })

  it('serves /metrics summed over both workers (prom-client in its own chunk)', async () => {
    const res = await http(server.url, 'GET', '/metrics', {
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    })
    expect(res.status).toBe(200)
    expect(String(res.body)).toMatch(/^keygate_sign_ins_total\{outcome="success"\} [1-9]/m)
  })
})
