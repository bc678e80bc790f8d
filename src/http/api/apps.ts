import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { clientContext } from '../client-context.js'
import { caller, createGuards } from '../plugins/bearer-guard.js'
import { SECURITY } from '../plugins/openapi.js'
import type { RouteDeps } from '../route-config.js'
import { AppOut, AppParams, toAppOut } from '../schemas/apps.js'
import { Empty, ErrorOut } from '../schemas/common.js'

const tags = ['users']

/** The caller's connected apps (SPEC §7 "Consent"), under /api/v1/users/me/apps. */
export const appsRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { services }) => {
  const { consents } = services
  const { requireUser } = createGuards(services.auth)

  app.get(
    '/',
    {
      onRequest: requireUser,
      config: { scope: 'account' },
      schema: {
        tags,
        operationId: 'users_me_apps_list',
        summary: 'Apps I have consented to, with the scopes I allowed each',
        security: SECURITY,
        response: { 200: Type.Array(AppOut), 401: ErrorOut },
      },
    },
    async (request) => (await consents.list(caller(request).user)).map(toAppOut),
  )

  app.delete(
    '/:client_id',
    {
      onRequest: requireUser,
      config: { scope: 'account' },
      schema: {
        tags,
        operationId: 'users_me_apps_delete',
        summary: 'Withdraw my consent from an app and revoke every token it holds for me',
        security: SECURITY,
        params: AppParams,
        response: { 204: Empty, 401: ErrorOut, 404: ErrorOut },
      },
    },
    async (request, reply) => {
      await consents.withdraw(
        caller(request).user,
        request.params.client_id,
        clientContext(request),
      )
      return reply.code(204).send(null)
    },
  )
}
