import type { Config } from '../../config.js'
import type { Metrics } from './metrics.js'

/** Metrics are collected only when something can read them. */
export const metricsEnabled = (config: Pick<Config, 'metricsToken' | 'metricsPort'>): boolean =>
  config.metricsToken !== undefined || config.metricsPort !== undefined

/** A fresh registry when metrics are on; prom-client is not even loaded otherwise. */
export async function loadMetrics(
  config: Pick<Config, 'metricsToken' | 'metricsPort'>,
): Promise<Metrics | undefined> {
  if (!metricsEnabled(config)) return undefined
  return (await import('./metrics.js')).createMetrics()
}
