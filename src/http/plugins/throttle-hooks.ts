import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Throttle } from '../../services/throttle/throttle.js'
import { hooksOf } from '../route-config.js'

/**
 * The per-client request budget over the auth endpoints (SPEC §4), on every
 * route flagged `config: { rateLimited: true }`. `request.ip` honours
 * X-Forwarded-For only from TRUST_PROXY (Fastify trustProxy, set in app.ts).
 */
export default fp(async function rateLimitPlugin(
  app: FastifyInstance,
  opts: { throttle: Throttle },
) {
  // Attached to the flagged routes only: every other request skips it entirely.
  const countRequest = async (request: FastifyRequest) => opts.throttle.request(request.ip)
  app.addHook('onRoute', (route) => {
    if (!route.config?.rateLimited) return
    route.onRequest = [countRequest, ...hooksOf(route.onRequest)]
  })
})
