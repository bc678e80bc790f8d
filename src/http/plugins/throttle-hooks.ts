import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Throttle } from '../../services/throttle/throttle.js'
import { hooksOf } from '../route-config.js'

/**
 * The per-client request budget over the auth endpoints (SPEC §4), on every
 * route flagged `config: { rateLimited: true }`, and the per-account write
 * rate on routes flagged `accountWrites`. `request.ip` honours
 * X-Forwarded-For only from TRUST_PROXY (Fastify trustProxy, set in app.ts).
 */
export default fp(async function rateLimitPlugin(
  app: FastifyInstance,
  opts: { throttle: Throttle },
) {
  // Attached to the flagged routes only: every other request skips it entirely.
  const countRequest = async (request: FastifyRequest) => opts.throttle.request(request.ip)
  // After the route's guard and body validation: only accepted writes of a known account count.
  const countWrite = async (request: FastifyRequest) => {
    if (request.auth) await opts.throttle.write(request.auth.user.id)
  }
  app.addHook('onRoute', (route) => {
    if (route.config?.rateLimited) route.onRequest = [countRequest, ...hooksOf(route.onRequest)]
    if (route.config?.accountWrites) route.preHandler = [countWrite, ...hooksOf(route.preHandler)]
  })
})
