import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Deps } from '../../deps.js'
import { caller, createGuards } from '../plugins/auth.js'
import { SECURITY } from '../plugins/openapi.js'
import { ErrorOut } from '../schemas/common.js'
import { toUserOut, UserOut } from '../schemas/users.js'

const tags = ['users']

export const usersRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  const { requireUser } = createGuards(deps.services.auth)

  app.get(
    '/me',
    {
      onRequest: requireUser,
      schema: {
        tags,
        summary: 'The current user',
        security: SECURITY,
        response: { 200: UserOut, 401: ErrorOut },
      },
    },
    async (request) => toUserOut(caller(request).user),
  )
}
