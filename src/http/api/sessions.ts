import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { actorContext } from '../client-context.js'
import { caller, createGuards } from '../plugins/bearer-guard.js'
import { SECURITY } from '../plugins/openapi.js'
import type { RouteDeps } from '../route-config.js'
import { Empty, ErrorOut, IdParams } from '../schemas/common.js'
import { SessionOut, toSessionOut } from '../schemas/tokens.js'

const tags = ['users']

/** The caller's own sessions, under /api/v1/users/me/sessions. */
export const sessionsRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { services }) => {
  const { sessions } = services
  const { requireUser } = createGuards(services.auth)

  app.get(
    '/',
    {
      onRequest: requireUser,
      config: { scope: 'account' },
      schema: {
        tags,
        operationId: 'users_me_sessions_list',
        summary: 'My live sessions (the one in use is `current`)',
        security: SECURITY,
        response: { 200: Type.Array(SessionOut), 401: ErrorOut },
      },
    },
    async (request) => (await sessions.list(caller(request))).map(toSessionOut),
  )

  app.delete(
    '/:id',
    {
      onRequest: requireUser,
      config: { scope: 'account' },
      schema: {
        tags,
        operationId: 'users_me_sessions_delete',
        summary: 'Revoke one of my sessions',
        security: SECURITY,
        params: IdParams,
        response: { 204: Empty, 401: ErrorOut, 404: ErrorOut },
      },
    },
    async (request, reply) => {
      await sessions.revoke(caller(request), request.params.id, actorContext(request))
      return reply.code(204).send(null)
    },
  )
}
