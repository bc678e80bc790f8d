import type { Server } from 'node:http'
import type { FastifyInstance } from 'fastify'
import type { Config } from '../config.js'
import { appMetrics, listenMetricsPort } from '../http/metrics-port.js'
import { metricsEnabled } from '../services/metrics/load.js'
import type { LineLogger } from './cluster.js'

/**
 * METRICS_PORT of a single server process (WEB_CONCURRENCY=1). Cluster
 * workers leave the port to the primary, which sums every worker's metrics.
 */
export async function serveMetricsPort(
  config: Config,
  app: FastifyInstance,
): Promise<Server | undefined> {
  const metrics = appMetrics.get(app.server)
  if (config.metricsPort === undefined || config.webConcurrency > 1 || !metrics) return undefined
  return listenMetricsPort(metrics.scrape, config.host, config.metricsPort, app.log)
}

/**
 * In the cluster primary, before the workers start: answers their /metrics
 * with every worker's series summed, and serves the same on METRICS_PORT.
 */
export async function startPrimaryMetrics(config: Config, log: LineLogger): Promise<void> {
  if (!metricsEnabled(config)) return
  // Loaded only here: a primary without metrics never loads prom-client.
  const { aggregateWorkers } = await import('../services/metrics/cluster.js')
  const scrape = aggregateWorkers()
  if (config.metricsPort === undefined) return
  await listenMetricsPort(scrape, config.host, config.metricsPort, log)
}
