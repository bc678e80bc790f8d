import cluster from 'node:cluster'
import type { Config } from '../../config.js'
import type { Metrics } from './metrics.js'

/** Metrics are collected only when something can read them. */
export const metricsEnabled = (config: Pick<Config, 'metricsToken' | 'metricsPort'>): boolean =>
  config.metricsToken !== undefined || config.metricsPort !== undefined

/** A fresh registry when metrics are on; prom-client is not even loaded otherwise. */
export async function loadMetrics(
  config: Pick<Config, 'metricsToken' | 'metricsPort' | 'webConcurrency'>,
): Promise<Metrics | undefined> {
  if (!metricsEnabled(config)) return undefined
  // A worker of Keygate's own cluster (cli/cluster.ts) asks its primary for the
  // sum; a process that some other manager forked (PM2) has no such primary.
  const clusterWorker = cluster.isWorker && config.webConcurrency > 1
  return (await import('./metrics.js')).createMetrics({ clusterWorker })
}
