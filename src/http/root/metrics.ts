import type { FastifyPluginAsync } from 'fastify'
import type { Metrics } from '../../services/metrics/metrics.js'
import { createScrapeAccess } from '../../services/metrics/scrape-access.js'
import { bearerToken } from '../plugins/bearer-guard.js'

/**
 * GET /metrics on the main port, for the holder of METRICS_TOKEN (SPEC §10).
 * Registered only when the token is set: otherwise the path does not exist
 * here (404), and METRICS_PORT, if set, is where metrics are read.
 */
export const metricsRoutes: FastifyPluginAsync<{ metrics: Metrics; token: string }> = async (
  app,
  { metrics, token },
) => {
  const authorizeScrape = createScrapeAccess(token)
  app.get(
    '/metrics',
    {
      onRequest: async (request) => authorizeScrape(bearerToken(request)),
      // Prometheus text, not part of the JSON API.
      schema: { hide: true },
    },
    async (_request, reply) => {
      const { contentType, body } = await metrics.scrape()
      return reply.type(contentType).header('Cache-Control', 'no-store').send(body)
    },
  )
}
