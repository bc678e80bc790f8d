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
    { schema: { tags, summary: 'The database answers', response: { 200: Status, 503: ErrorOut } } },
    async () => {
      await deps.database.ping().catch(() => {
        throw new KeygateError('DATABASE_UNAVAILABLE')
      })
      return { status: 'ready' }
    },
  )
}
