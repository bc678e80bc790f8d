import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Metrics } from '../../services/metrics/metrics.js'
import { appMetrics } from '../metrics-port.js'

/** Requests that matched no route share one label, so random URLs add no series. */
export const UNMATCHED_ROUTE = 'unmatched'

/**
 * Times every request by its route pattern (`/api/v1/users/:id`, never the
 * URL, which carries ids) and status code. Nothing is added when metrics are off.
 */
export default fp(async function metricsPlugin(
  app: FastifyInstance,
  opts: { metrics: Metrics | undefined },
) {
  const { metrics } = opts
  if (!metrics) return
  appMetrics.set(app.server, metrics)
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? UNMATCHED_ROUTE
    metrics.httpRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000)
    done()
  })
})
