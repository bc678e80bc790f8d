import { request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it, onTestFinished } from 'vitest'
import { serveMetricsPort } from '../../src/cli/metrics-port.js'
import { loadConfig } from '../../src/config.js'
import { appMetrics } from '../../src/http/metrics-port.js'
import { buildTestApp } from '../helpers/app.js'
import { createUser, loginAs } from '../helpers/factories.js'
import { parseExposition, sampleValue } from '../helpers/prometheus.js'

const TOKEN = 'metrics-token-that-is-at-least-32-bytes'

const scrape = (app: Awaited<ReturnType<typeof buildTestApp>>['app'], authorization?: string) =>
  app.inject({ method: 'GET', url: '/metrics', headers: authorization ? { authorization } : {} })

function get(url: string, method = 'GET') {
  return new Promise<{ status: number; type?: string; body: string }>((resolve, reject) => {
    const req = request(url, { method, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (c: string) => {
        body += c
      })
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }),
      )
    })
    req.on('error', reject)
    req.end()
  })
}

describe('GET /metrics on the main port', () => {
  it('does not exist when neither METRICS_TOKEN nor METRICS_PORT is set', async () => {
    const { app } = await buildTestApp()
    expect(appMetrics.get(app.server)).toBeUndefined()
    const res = await scrape(app, `Bearer ${TOKEN}`)
    expect(res.statusCode).toBe(404)
    expect(res.json()).toEqual({ detail: 'Not Found' })
  })

  it('does not exist with only METRICS_PORT set: that listener serves it', async () => {
    const { app } = await buildTestApp({ metricsPort: 0 })
    expect(appMetrics.get(app.server)).toBeDefined()
    expect((await scrape(app, `Bearer ${TOKEN}`)).statusCode).toBe(404)
  })

  it('refuses a request without a bearer token: 401 with a challenge', async () => {
    const { app } = await buildTestApp({ metricsToken: TOKEN })
    for (const authorization of [
      undefined,
      `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`,
    ]) {
      const res = await scrape(app, authorization)
      expect(res.statusCode).toBe(401)
      expect(res.json()).toEqual({ detail: 'Not authenticated' })
      expect(res.headers['www-authenticate']).toBe('Bearer realm="keygate"')
      expect(res.body).not.toContain('keygate_')
    }
  })

  it('refuses a wrong token, a prefix or extension of it, and an access token: 403', async () => {
    const { app } = await buildTestApp({ metricsToken: TOKEN })
    const user = await createUser(app)
    const { headers } = await loginAs(app, user)
    for (const authorization of [
      'Bearer wrong-token-of-the-same-length-xxxxxxxx',
      `Bearer ${TOKEN.slice(0, -1)}`,
      `Bearer ${TOKEN}x`,
      'Bearer',
      headers.authorization,
    ]) {
      const res = await scrape(app, authorization)
      expect(res.statusCode, authorization).toBe(403)
      expect(res.json()).toEqual({ detail: 'Not enough permissions' })
    }
  })

  it('serves the Prometheus text format to the holder of METRICS_TOKEN', async () => {
    const { app } = await buildTestApp({ metricsToken: TOKEN })
    const res = await scrape(app, `bearer ${TOKEN}`)
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/)
    expect(res.headers['cache-control']).toBe('no-store')
    const samples = parseExposition(res.body)
    expect(sampleValue(samples, 'keygate_sign_ins_total', { outcome: 'success' })).toBe(0)
    expect(sampleValue(samples, 'process_resident_memory_bytes')).toBeGreaterThan(0)
    expect(sampleValue(samples, 'nodejs_eventloop_lag_seconds')).toBeDefined()
  })

  it('keeps apps apart: each app counts only its own requests', async () => {
    const a = await buildTestApp({ metricsToken: TOKEN })
    const b = await buildTestApp({ metricsToken: TOKEN })
    for (let i = 0; i < 3; i++) await a.app.inject({ method: 'GET', url: '/healthz' })
    const count = async (t: typeof a) =>
      sampleValue(
        parseExposition((await scrape(t.app, `Bearer ${TOKEN}`)).body),
        'keygate_http_request_duration_seconds_count',
        { route: '/healthz' },
      )
    expect(await count(a)).toBe(3)
    expect(await count(b)).toBeUndefined()
  })
})

describe('METRICS_TOKEN and METRICS_PORT settings', () => {
  it('refuses a METRICS_TOKEN shorter than 32 bytes, naming the variable', () => {
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(
      'METRICS_TOKEN: must be at least 32 bytes',
    )
    expect(loadConfig({ METRICS_TOKEN: TOKEN }).metricsToken).toBe(TOKEN)
  })

  it('refuses a METRICS_PORT that is not a port, or is the main port', () => {
    expect(() => loadConfig({ METRICS_PORT: 'abc' })).toThrow(/^METRICS_PORT: /)
    expect(() => loadConfig({ METRICS_PORT: '70000' })).toThrow(/^METRICS_PORT: /)
    expect(() => loadConfig({ METRICS_PORT: '8000' })).toThrow(
      'METRICS_PORT: must differ from PORT',
    )
    expect(loadConfig({ METRICS_PORT: '9464' }).metricsPort).toBe(9464)
    expect(loadConfig({}).metricsPort).toBeUndefined()
  })
})

describe('the METRICS_PORT listener', () => {
  it('serves /metrics without a token, and nothing else', async () => {
    const { app, config } = await buildTestApp({ metricsPort: 0 })
    const server = await serveMetricsPort(config, app)
    if (!server) throw new Error('no METRICS_PORT listener')
    onTestFinished(() => void server.close())
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

    await app.inject({ method: 'GET', url: '/healthz' })
    const res = await get(`${base}/metrics`)
    expect(res.status).toBe(200)
    expect(res.type).toMatch(/^text\/plain; version=0\.0\.4/)
    const samples = parseExposition(res.body)
    expect(
      sampleValue(samples, 'keygate_http_request_duration_seconds_count', { route: '/healthz' }),
    ).toBe(1)

    expect((await get(`${base}/metrics`, 'HEAD')).status).toBe(200)
    for (const path of ['/', '/healthz', '/api/v1/users', '/metrics/x']) {
      const other = await get(`${base}${path}`)
      expect(other.status, path).toBe(404)
      expect(JSON.parse(other.body)).toEqual({ detail: 'Not Found' })
    }
    expect((await get(`${base}/metrics`, 'POST')).status).toBe(404)
  })

  it('is not opened by a cluster worker (the primary serves the sum) nor without METRICS_PORT', async () => {
    const worker = await buildTestApp({ metricsPort: 0, metricsToken: TOKEN, webConcurrency: 2 })
    expect(await serveMetricsPort(worker.config, worker.app)).toBeUndefined()
    const none = await buildTestApp({ metricsToken: TOKEN })
    expect(await serveMetricsPort(none.config, none.app)).toBeUndefined()
  })

  it('fails start-up when its port is taken', async () => {
    const { app, config } = await buildTestApp({ metricsPort: 0 })
    const first = await serveMetricsPort(config, app)
    if (!first) throw new Error('no METRICS_PORT listener')
    onTestFinished(() => void first.close())
    const port = (first.address() as AddressInfo).port
    await expect(serveMetricsPort({ ...config, metricsPort: port }, app)).rejects.toThrow(
      /EADDRINUSE/,
    )
  })
})
