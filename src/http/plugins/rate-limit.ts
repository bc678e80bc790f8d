import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Throttle } from '../../services/throttle.js'

import '../route-config.js'

/**
 * The per-client request budget over the auth endpoints (SPEC §4), on every
 * route flagged `config: { rateLimited: true }`. `request.ip` honours
 * X-Forwarded-For only from TRUST_PROXY (Fastify trustProxy, set in app.ts).
 */
export default fp(async function rateLimitPlugin(
  app: FastifyInstance,
  opts: { throttle: Throttle },
) {
  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.config.rateLimited) await opts.throttle.request(request.ip)
  })
})
