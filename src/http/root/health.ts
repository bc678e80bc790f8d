import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { Deps } from '../../deps.js'
import { KeygateError } from '../../errors.js'
import { ErrorOut } from '../schemas/common.js'

const tags = ['health']
const Status = Type.Object({ status: Type.String() })

export const healthRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  app.get(
    '/healthz',
    { schema: { tags, summary: 'The process is up', response: { 200: Status } } },
    async () => ({
      status: 'ok',
    }),
  )

  app.get(
    '/readyz',
    {
      schema: {
        tags,
        summary: 'The database (and Redis, when REDIS_URL is set) answer',
        response: { 200: Status, 503: ErrorOut },
      },
    },
    async (request) => {
      // Without Redis the throttled endpoints answer 503, so the instance is not ready.
      const checks = { database: deps.database.ping(), redis: deps.rateLimitStore.ping() }
      await Promise.all(
        Object.entries(checks).map(([dependency, check]) =>
          check.catch((err: Error) => {
            request.log.warn({ dependency, reason: err.message }, 'not ready')
            throw new KeygateError('SERVICE_UNAVAILABLE')
          }),
        ),
      )
      return { status: 'ready' }
    },
  )
}
