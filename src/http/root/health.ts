import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ERRORS } from '../../errors.js'
import type { RouteDeps } from '../route-config.js'
import { NotReadyOut, StatusOut } from '../schemas/health.js'

const tags = ['health']
export const healthRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { services }) => {
  app.get(
    '/healthz',
    {
      schema: {
        tags,
        summary: 'The process is up',
        operationId: 'health_live',
        response: { 200: StatusOut },
      },
    },
    async () => ({ status: 'ok' }),
  )

  app.get(
    '/readyz',
    {
      schema: {
        tags,
        summary: 'The database (and Redis, when REDIS_URL is set) answer',
        operationId: 'health_ready',
        response: { 200: StatusOut, 503: NotReadyOut },
      },
    },
    async (request, reply) => {
      const { failed, reasons } = await services.readiness.check()
      if (failed.length === 0) return { status: 'ready' }
      // The reasons name host and port (database.ts, redis-store.ts): the log only.
      for (const dependency of failed) {
        request.log.warn({ dependency, reason: reasons[dependency] }, 'not ready')
      }
      const spec = ERRORS.NOT_READY
      reply.code(503).headers(spec.headers)
      return { detail: `${spec.detail}: ${failed.join(' and ')} unreachable`, failed }
    },
  )
}
