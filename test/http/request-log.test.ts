import { describe, expect, it } from 'vitest'
import { buildTestApp } from '../helpers/app.js'

async function appLogging(level: string) {
  const lines: Record<string, any>[] = []
  const logStream = { write: (line: string) => void lines.push(JSON.parse(line)) }
  const { app } = await buildTestApp({ logLevel: level }, { logStream })
  return { app, lines }
}

describe('request log', () => {
  it('writes one info line per request: id, method, path, address, status, time', async () => {
    const { app, lines } = await appLogging('info')
    lines.length = 0
    const res = await app.inject({
      method: 'GET',
      url: '/api/v1/posts?limit=5&secret=hunter2',
      headers: { 'x-request-id': 'req-log-1', authorization: 'Bearer not-a-real-token' },
    })
    // A bearer sent to a public route is checked (posts-drafts.test.ts): this one is a 401.
    expect(res.statusCode).toBe(401)
    expect(lines).toHaveLength(1)
    const [line] = lines
    expect(line).toMatchObject({
      level: 30,
      msg: 'request completed',
      reqId: 'req-log-1',
      req: { method: 'GET', url: '/api/v1/posts', remoteAddress: '127.0.0.1' },
      res: { statusCode: 401 },
    })
    expect(typeof line?.responseTime).toBe('number')
    // Neither the query string nor any header reaches the log.
    expect(JSON.stringify(lines)).not.toMatch(/hunter2|not-a-real-token|authorization/i)
  })

  it('announces incoming requests only at debug', async () => {
    const { app, lines } = await appLogging('debug')
    lines.length = 0
    await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'req-log-2' } })
    expect(lines.map((l) => l.msg)).toEqual(['incoming request', 'request completed'])
    expect(lines.every((l) => l.reqId === 'req-log-2')).toBe(true)
  })
})
