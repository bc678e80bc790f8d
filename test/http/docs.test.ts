import { describe, expect, it, onTestFinished } from 'vitest'
import { createDatabase } from '../../src/db/database.js'
import { SCOPES } from '../../src/domain/scopes.js'
import { createRedisStore } from '../../src/services/throttle/redis-store.js'
import { buildTestApp } from '../helpers/app.js'
import { must } from '../helpers/must.js'
import { createTestStore, TEST_REDIS_URL, testPrefix } from '../helpers/rate-limit.js'
import { deadPort } from '../helpers/tcp-proxy.js'

type Operation = { tags?: string[]; security?: unknown[] }

describe('OpenAPI document', () => {
  it('is OpenAPI 3.1 with the tags and the OAuth2 password scheme Swagger UI needs', async () => {
    const { app } = await buildTestApp()
    const res = await app.inject({ method: 'GET', url: '/openapi.json' })
    expect(res.statusCode).toBe(200)
    expect(String(res.headers['content-type'])).toMatch(/^application\/json/)
    const doc = res.json()
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/)
    const tags = doc.tags.map((t: { name: string }) => t.name)
    for (const tag of ['auth', 'users', 'posts', 'health']) expect(tags).toContain(tag)
    const schemes = Object.values(doc.components.securitySchemes) as {
      type: string
      flows: { password: { tokenUrl: string; scopes: object } }
    }[]
    const oauth = schemes.find((s) => s.type === 'oauth2')
    expect(oauth?.flows.password.tokenUrl).toBe('/api/v1/auth/token')
    // Every scope, in plain words, so the Authorize dialog can offer them (SPEC §6).
    expect(Object.keys(oauth?.flows.password.scopes ?? {})).toEqual([...SCOPES])
    for (const text of Object.values(oauth?.flows.password.scopes ?? {})) {
      expect(text).toMatch(/^[A-Z][a-z]/)
    }
    // An absolute server URL turns a visit through another host name into a CORS failure.
    for (const server of doc.servers ?? []) expect(server.url).not.toMatch(/^[a-z]+:\/\//i)
  })

  it('declares security exactly on the protected operations', async () => {
    const { app } = await buildTestApp()
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json()
    const ops = (path: string) => doc.paths[path] as Record<string, Operation>
    // Each with the scope it needs as its OAuth2 requirement (none for GET /users/me).
    const protectedOps: [string, string, string[]][] = [
      ['/api/v1/users/me', 'get', []],
      ['/api/v1/users/me', 'patch', ['account']],
      ['/api/v1/users', 'get', ['admin']],
      ['/api/v1/posts', 'post', ['posts:write']],
      ['/api/v1/posts/{id}', 'patch', ['posts:write']],
      ['/api/v1/posts/{id}', 'delete', ['posts:write']],
    ]
    const publicOps: [string, string][] = [
      ['/api/v1/auth/signup', 'post'],
      ['/api/v1/auth/token', 'post'],
      ['/api/v1/auth/login', 'post'],
      ['/healthz', 'get'],
      ['/readyz', 'get'],
    ]
    for (const [path, method, scopes] of protectedOps) {
      const op = ops(path)?.[method]
      expect(op, `${method} ${path}`).toBeDefined()
      expect(op?.security, `${method} ${path}`).toEqual([{ OAuth2PasswordBearer: scopes }])
    }
    for (const [path, method] of publicOps) {
      const op = ops(path)?.[method]
      expect(op, `${method} ${path}`).toBeDefined()
      expect(op?.security, `${method} ${path}`).toBeUndefined()
    }
    // Public, but a signed-in caller also sees their drafts: the bearer is optional.
    for (const path of ['/api/v1/posts', '/api/v1/posts/{id}']) {
      expect(ops(path)?.get?.security, `get ${path}`).toEqual([{}, { OAuth2PasswordBearer: [] }])
    }
    expect(doc.security).toBeUndefined()
    for (const [path, methods] of Object.entries(
      doc.paths as Record<string, Record<string, Operation>>,
    )) {
      for (const [method, op] of Object.entries(methods)) {
        expect(op.tags?.length, `${method} ${path} has a tag`).toBeGreaterThan(0)
      }
    }
    const token = ops('/api/v1/auth/token').post as { requestBody: { content: object } }
    expect(Object.keys(token.requestBody.content)).toContain('application/x-www-form-urlencoded')
  })
})

describe('Swagger UI', () => {
  it('serves HTML and its own assets, no CDN', async () => {
    const { app } = await buildTestApp()
    let res = await app.inject({ method: 'GET', url: '/docs' })
    if (res.statusCode >= 300 && res.statusCode < 400) {
      res = await app.inject({ method: 'GET', url: String(res.headers.location) })
    }
    expect(res.statusCode).toBe(200)
    expect(String(res.headers['content-type'])).toMatch(/^text\/html/)
    expect(res.body).not.toMatch(/https?:\/\/(?!localhost)[^"' ]*\.(js|css)/)
    expect(res.body).not.toMatch(/unpkg|jsdelivr|cdnjs/)
    const assets = [...res.body.matchAll(/(?:src|href)="([^"]+\.(?:js|css))"/g)].map((m) =>
      must(m[1], 'an asset path'),
    )
    expect(assets.length).toBeGreaterThan(0)
    for (const asset of assets) {
      const url = asset.startsWith('/') ? asset : `/docs/${asset.replace(/^\.\//, '')}`
      const a = await app.inject({ method: 'GET', url })
      expect(a.statusCode, url).toBe(200)
      expect(a.body.length, url).toBeGreaterThan(100)
    }
    const init = await app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' })
    expect(init.statusCode).toBe(200)
  })
})

describe('health', () => {
  it('/healthz and /readyz answer 200; /readyz 503 once the database is gone', async () => {
    const { app, database } = await buildTestApp()
    const live = await app.inject({ method: 'GET', url: '/healthz' })
    expect(live.statusCode).toBe(200)
    expect(live.json()).toEqual({ status: 'ok' })
    const ready = await app.inject({ method: 'GET', url: '/readyz' })
    expect(ready.statusCode).toBe(200)
    await database.close()
    const down = await app.inject({ method: 'GET', url: '/readyz' })
    expect(down.statusCode).toBe(503)
    expect(down.headers['retry-after']).toBe('5')
    // The body says which dependency failed, never how.
    expect(down.json()).toEqual({ detail: 'Not ready: database unreachable', failed: ['database'] })
    expect(down.body).not.toMatch(/sql|destroyed|pool|Error/i)
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200)
  })

  it('/readyz answers 503 naming Redis when it is unreachable; the log names host and port', async () => {
    const port = await deadPort()
    const store = createRedisStore(`redis://127.0.0.1:${port}`, {
      prefix: testPrefix(),
    })
    onTestFinished(() => store.close())
    const lines: { msg?: string; dependency?: string; reason?: string }[] = []
    const logStream = { write: (line: string) => void lines.push(JSON.parse(line)) }
    const { app } = await buildTestApp({ logLevel: 'warn' }, { rateLimitStore: store, logStream })
    const down = await app.inject({ method: 'GET', url: '/readyz' })
    expect(down.statusCode).toBe(503)
    expect(down.json()).toEqual({ detail: 'Not ready: redis unreachable', failed: ['redis'] })
    expect(down.body).not.toMatch(/ECONNREFUSED|Error|127\.0\.0\.1/i)
    const logged = lines.find((l) => l.msg === 'not ready' && l.dependency === 'redis')
    expect(logged?.reason).toContain(`redis at 127.0.0.1:${port}`)
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200)
  })

  it('/readyz names PostgreSQL host and port in the log, never its password', async () => {
    const port = await deadPort()
    const lines: { msg?: string; dependency?: string; reason?: string }[] = []
    const logStream = { write: (line: string) => void lines.push(JSON.parse(line)) }
    const database = createDatabase(`postgres://kg:pg-s3cret@127.0.0.1:${port}/x`, {
      timeoutMs: 500,
    })
    const { app } = await buildTestApp(
      { logLevel: 'warn', migrateOnStart: false },
      { database, logStream },
    )
    const down = await app.inject({ method: 'GET', url: '/readyz' })
    expect(down.json()).toEqual({ detail: 'Not ready: database unreachable', failed: ['database'] })
    const logged = lines.find((l) => l.msg === 'not ready' && l.dependency === 'database')
    expect(logged?.reason).toContain(`PostgreSQL at 127.0.0.1:${port}`)
    expect(JSON.stringify(lines)).not.toContain('pg-s3cret')
  })

  it.skipIf(!TEST_REDIS_URL)('/readyz answers 200 with a reachable Redis', async () => {
    const { app } = await buildTestApp({}, { rateLimitStore: createTestStore('redis') })
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200)
  })
})
