import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { actorContext } from '../client-context.js'
import { caller, createGuards } from '../plugins/bearer-guard.js'
import { SECURITY } from '../plugins/openapi.js'
import type { RouteDeps } from '../route-config.js'
import { Empty, ErrorOut, IdParams, ValidationErrorOut } from '../schemas/common.js'
import { PasskeyOut, PasskeyRenameIn, toPasskeyOut } from '../schemas/passkeys.js'

const tags = ['users']

/**
 * The caller's passkeys, under /api/v1/users/me/passkeys: list, rename,
 * delete. Registering one is a browser ceremony on the account page
 * (http/pages/passkeys.ts), as WebAuthn ties it to Keygate's own origin.
 */
export const passkeysRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { services }) => {
  const { passkeys } = services
  const { requireUser } = createGuards(services.auth)

  app.get(
    '/',
    {
      onRequest: requireUser,
      config: { scope: 'account' },
      schema: {
        tags,
        operationId: 'users_me_passkeys_list',
        summary: 'My passkeys, oldest first',
        security: SECURITY,
        response: { 200: Type.Array(PasskeyOut), 401: ErrorOut },
      },
    },
    async (request) => (await passkeys.list(caller(request).user.id)).map(toPasskeyOut),
  )

  app.patch(
    '/:id',
    {
      onRequest: requireUser,
      config: { scope: 'account', accountWrites: true },
      schema: {
        tags,
        operationId: 'users_me_passkeys_rename',
        summary: 'Rename one of my passkeys',
        security: SECURITY,
        params: IdParams,
        body: PasskeyRenameIn,
        response: {
          200: PasskeyOut,
          401: ErrorOut,
          404: ErrorOut,
          422: ValidationErrorOut,
          429: ErrorOut,
        },
      },
    },
    async (request) =>
      toPasskeyOut(
        await passkeys.rename(caller(request).user.id, request.params.id, request.body.name),
      ),
  )

  app.delete(
    '/:id',
    {
      onRequest: requireUser,
      config: { scope: 'account', accountWrites: true },
      schema: {
        tags,
        operationId: 'users_me_passkeys_delete',
        summary: 'Delete one of my passkeys: it no longer signs in',
        security: SECURITY,
        params: IdParams,
        response: {
          204: Empty,
          401: ErrorOut,
          404: ErrorOut,
          422: ValidationErrorOut,
          429: ErrorOut,
        },
      },
    },
    async (request, reply) => {
      await passkeys.remove(caller(request).user.id, request.params.id, actorContext(request))
      return reply.code(204).send(null)
    },
  )
}
