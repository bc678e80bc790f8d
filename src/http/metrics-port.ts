import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ERRORS } from '../errors.js'
import type { Metrics, Scrape } from '../services/metrics/metrics.js'

/** Each built app's metrics, by its HTTP server (set by plugins/metrics.ts, read by cli/). */
export const appMetrics = new WeakMap<Server, Metrics>()

const JSON_TYPE = { 'Content-Type': 'application/json; charset=utf-8' }

/**
 * The METRICS_PORT listener: GET /metrics without a token, nothing else.
 * Plain node:http, so a cluster primary can serve it without loading Fastify.
 * It is meant for a private interface (HOST, or a network only Prometheus
 * reaches); the main port keeps its token check.
 */
export async function listenMetricsPort(
  scrape: () => Promise<Scrape>,
  host: string,
  port: number,
  log: { info(fields: object, msg: string): void },
): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0]
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, JSON_TYPE).end(JSON.stringify({ detail: ERRORS.NOT_FOUND.detail }))
      return
    }
    scrape().then(
      ({ contentType, body }) => {
        res.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-store' })
        res.end(req.method === 'HEAD' ? undefined : body)
      },
      () => {
        const { status, detail, headers } = ERRORS.SERVICE_UNAVAILABLE
        res.writeHead(status, { ...JSON_TYPE, ...headers }).end(JSON.stringify({ detail }))
      },
    )
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  // Never what keeps a process alive: the main server's shutdown decides that.
  server.unref()
  const address = server.address() as AddressInfo
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address
  log.info({ url: `http://${urlHost}:${address.port}/metrics` }, 'metrics listening')
  return server
}
