import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Deps } from '../../deps.js'
import { ERRORS } from '../../errors.js'
import { NotReadyOut, StatusOut } from '../schemas/health.js'

const tags = ['health']
export const healthRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
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
      // Without Redis the throttled endpoints answer 503, so the instance is not ready.
      const checks = [
        ['database', deps.database.ping()],
        ['redis', deps.rateLimitStore.ping()],
      ] as const
      const results = await Promise.allSettled(checks.map(([, check]) => check))
      const failed = checks
        .filter((_, i) => results[i]?.status === 'rejected')
        .map(([dependency]) => dependency)
      if (failed.length === 0) return { status: 'ready' }
      results.forEach((r, i) => {
        if (r.status === 'rejected') {
          // The reason names host and port (database.ts, redis-store.ts): for the
          // operator's log only; the body says which dependency, never how.
          const reason = (r.reason as Error)?.message ?? String(r.reason)
          request.log.warn({ dependency: checks[i]?.[0], reason }, 'not ready')
        }
      })
      const spec = ERRORS.NOT_READY
      reply.code(503).headers(spec.headers)
      return { detail: `${spec.detail}: ${failed.join(' and ')} unreachable`, failed }
    },
  )
}
