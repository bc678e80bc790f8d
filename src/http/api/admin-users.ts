import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { actorContext } from '../client-context.js'
import { createGuards } from '../plugins/bearer-guard.js'
import { SECURITY } from '../plugins/openapi.js'
import type { RouteDeps } from '../route-config.js'
import { Empty, ErrorOut, IdParams, PageQuery, ValidationErrorOut } from '../schemas/common.js'
import { AdminUserPatchIn, toUserOut, UserOut, UserPage } from '../schemas/users.js'

const tags = ['users']
const denied = { 401: ErrorOut, 403: ErrorOut }

/**
 * Superuser routes under /api/v1/users. The guard runs on onRequest, before
 * the id is validated or looked up, so a non-superuser gets 403 even for an
 * id that does not exist and learns nothing about which ids do.
 */
export const adminRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { services }) => {
  const { admin } = services
  const { requireSuperuser } = createGuards(services.auth)
  const base = { onRequest: requireSuperuser, config: { scope: 'admin' as const } }

  app.get(
    '/',
    {
      ...base,
      schema: {
        tags,
        operationId: 'users_list',
        summary: 'List users (superuser)',
        security: SECURITY,
        querystring: PageQuery,
        response: { 200: UserPage, ...denied, 422: ValidationErrorOut },
      },
    },
    async (request) => {
      const page = await admin.list(request.query.limit, request.query.offset)
      return { items: page.items.map(toUserOut), total: page.total }
    },
  )

  app.get(
    '/:id',
    {
      ...base,
      schema: {
        tags,
        operationId: 'users_get',
        summary: 'One user (superuser)',
        security: SECURITY,
        params: IdParams,
        response: { 200: UserOut, ...denied, 404: ErrorOut, 422: ValidationErrorOut },
      },
    },
    async (request) => toUserOut(await admin.get(request.params.id)),
  )

  app.patch(
    '/:id',
    {
      ...base,
      schema: {
        tags,
        operationId: 'users_update',
        summary: 'Activate, deactivate, promote or demote a user (superuser)',
        description:
          'Deactivating signs the user out everywhere at once. 409 when it would leave no active superuser.',
        security: SECURITY,
        params: IdParams,
        body: AdminUserPatchIn,
        response: {
          200: UserOut,
          ...denied,
          404: ErrorOut,
          409: ErrorOut,
          422: ValidationErrorOut,
        },
      },
    },
    async (request) =>
      toUserOut(await admin.update(request.params.id, request.body, actorContext(request))),
  )

  app.delete(
    '/:id',
    {
      ...base,
      schema: {
        tags,
        operationId: 'users_delete',
        summary: 'Delete a user with their sessions and posts (superuser)',
        security: SECURITY,
        params: IdParams,
        response: { 204: Empty, ...denied, 404: ErrorOut, 409: ErrorOut, 422: ValidationErrorOut },
      },
    },
    async (request, reply) => {
      await admin.remove(request.params.id, actorContext(request))
      return reply.code(204).send(null)
    },
  )

  app.delete(
    '/:id/sessions',
    {
      ...base,
      schema: {
        tags,
        operationId: 'users_sessions_delete',
        summary: 'Sign a user out everywhere (superuser)',
        security: SECURITY,
        params: IdParams,
        response: { 204: Empty, ...denied, 404: ErrorOut, 422: ValidationErrorOut },
      },
    },
    async (request, reply) => {
      await admin.revokeSessions(request.params.id, actorContext(request))
      return reply.code(204).send(null)
    },
  )
}
