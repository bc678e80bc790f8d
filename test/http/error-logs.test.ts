import net from 'node:net'
import { describe, expect, it } from 'vitest'
import { createDatabase } from '../../src/db/database.js'
import { buildTestApp } from '../helpers/app.js'
import { deadPort } from '../helpers/tcp-proxy.js'

// Issue 14, info: the 503 and 500 log lines carried the query string, and a
// request the client aborted was logged as "database unavailable".
function captureLogs() {
  const lines: Record<string, unknown>[] = []
  return { lines, logStream: { write: (line: string) => void lines.push(JSON.parse(line)) } }
}

describe('error-path logs', () => {
  it('the 503 line names the path, never the query string', async () => {
    const { lines, logStream } = captureLogs()
    const url = `postgres://postgres@127.0.0.1:${await deadPort()}/test`
    const { app } = await buildTestApp(
      { migrateOnStart: false, logLevel: 'info' },
      { database: createDatabase(url, { timeoutMs: 1000 }), logStream },
    )
    const res = await app.inject({ method: 'GET', url: '/api/v1/posts?token=s3cr3t-in-query' })
    expect(res.statusCode).toBe(503)
    const line = lines.find((l) => l.msg === 'database unavailable')
    expect(line).toMatchObject({ url: '/api/v1/posts' })
    expect(JSON.stringify(lines)).not.toContain('s3cr3t-in-query')
  })

  it('the 500 line names the path, never the query string', async () => {
    const { lines, logStream } = captureLogs()
    const { app, database } = await buildTestApp({ logLevel: 'info' }, { logStream })
    // A closed SQLite handle is a bug-shaped failure (not an outage): the 500 path.
    await database.db.destroy()
    const res = await app.inject({ method: 'GET', url: '/api/v1/posts?password=s3cr3t-in-query' })
    expect(res.statusCode).toBe(500)
    expect(lines.find((l) => l.msg === 'unhandled error')).toMatchObject({ url: '/api/v1/posts' })
    expect(JSON.stringify(lines)).not.toContain('s3cr3t-in-query')
  })

  it('a request the client aborts mid-body is logged as aborted, at info, not as an outage', async () => {
    const { lines, logStream } = captureLogs()
    const { app } = await buildTestApp({ logLevel: 'info' }, { logStream })
    await app.listen({ host: '127.0.0.1', port: 0 })
    const { port } = app.server.address() as net.AddressInfo
    const socket = net.connect(port, '127.0.0.1')
    await new Promise((r) => socket.once('connect', r))
    socket.write(
      'POST /api/v1/auth/login?x=s3cr3t HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"email":',
    )
    await new Promise((r) => setTimeout(r, 100))
    socket.destroy()
    await expect.poll(() => lines.some((l) => l.msg === 'request aborted by client')).toBe(true)
    const aborted = lines.find((l) => l.msg === 'request aborted by client')
    expect(aborted).toMatchObject({ level: 30, url: '/api/v1/auth/login' })
    expect(lines.some((l) => l.msg === 'database unavailable')).toBe(false)
  })
})
