import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { actorContext } from '../client-context.js'
import { createGuards } from '../plugins/bearer-guard.js'
import { SECURITY } from '../plugins/openapi.js'
import type { RouteDeps } from '../route-config.js'
import {
  ClientCreateIn,
  ClientIdParams,
  ClientList,
  ClientOut,
  ClientPatchIn,
  ClientWithSecretOut,
  toClientOut,
} from '../schemas/clients.js'
import { Empty, ErrorOut, ValidationErrorOut } from '../schemas/common.js'

const tags = ['clients']
const denied = { 401: ErrorOut, 403: ErrorOut }

/**
 * Registered clients (SPEC §6), superusers only, under /api/v1/clients. The
 * guard runs on onRequest, so a non-superuser learns nothing about which ids
 * exist. The built-in client `keygate` is listed but cannot be changed,
 * deleted or given a secret (409).
 */
export const clientsRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { services }) => {
  const { clients } = services
  const { requireSuperuser } = createGuards(services.auth)
  const base = { onRequest: requireSuperuser, config: { scope: 'admin' as const } }

  app.post(
    '/',
    {
      ...base,
      // The answer carries the secret: never cached.
      config: { ...base.config, noStore: true },
      schema: {
        tags,
        operationId: 'clients_create',
        summary: 'Register a client (superuser)',
        description:
          'A confidential client gets its `client_secret` in this answer only. Defaults: `grant_types` ["authorization_code", "refresh_token"], `scopes` ["openid", "profile", "email", "offline_access"], `first_party` false. `redirect_uris` is required unless the only grant is client_credentials; `password` needs `first_party`; `client_credentials` needs a confidential client.',
        security: SECURITY,
        body: ClientCreateIn,
        response: { 201: ClientWithSecretOut, ...denied, 422: ValidationErrorOut },
      },
    },
    async (request, reply) => {
      const { client, client_secret } = await clients.create(request.body, actorContext(request))
      reply.code(201).header('Location', `/api/v1/clients/${client.client_id}`)
      return { ...toClientOut(client), client_secret }
    },
  )

  app.get(
    '/',
    {
      ...base,
      schema: {
        tags,
        operationId: 'clients_list',
        summary: 'List clients, the built-in one first (superuser)',
        security: SECURITY,
        response: { 200: ClientList, ...denied },
      },
    },
    async () => {
      const items = (await clients.list()).map(toClientOut)
      return { items, total: items.length }
    },
  )

  app.get(
    '/:client_id',
    {
      ...base,
      schema: {
        tags,
        operationId: 'clients_get',
        summary: 'One client, never its secret (superuser)',
        security: SECURITY,
        params: ClientIdParams,
        response: { 200: ClientOut, ...denied, 404: ErrorOut, 422: ValidationErrorOut },
      },
    },
    async (request) => toClientOut(await clients.get(request.params.client_id)),
  )

  app.patch(
    '/:client_id',
    {
      ...base,
      schema: {
        tags,
        operationId: 'clients_update',
        summary: 'Change a client (superuser)',
        description: 'The same rules as registration apply to the result. 409 for `keygate`.',
        security: SECURITY,
        params: ClientIdParams,
        body: ClientPatchIn,
        response: {
          200: ClientOut,
          ...denied,
          404: ErrorOut,
          409: ErrorOut,
          422: ValidationErrorOut,
        },
      },
    },
    async (request) =>
      toClientOut(
        await clients.update(request.params.client_id, request.body, actorContext(request)),
      ),
  )

  app.delete(
    '/:client_id',
    {
      ...base,
      schema: {
        tags,
        operationId: 'clients_delete',
        summary: 'Delete a client and revoke every token issued to it (superuser)',
        security: SECURITY,
        params: ClientIdParams,
        response: { 204: Empty, ...denied, 404: ErrorOut, 409: ErrorOut, 422: ValidationErrorOut },
      },
    },
    async (request, reply) => {
      await clients.delete(request.params.client_id, actorContext(request))
      return reply.code(204).send(null)
    },
  )

  app.post(
    '/:client_id/secret',
    {
      ...base,
      config: { ...base.config, noStore: true },
      schema: {
        tags,
        operationId: 'clients_rotate_secret',
        summary: "Rotate a confidential client's secret (superuser)",
        description:
          'The old secret stops working at once; the new one is in this answer only. 409 for a public client or `keygate`.',
        security: SECURITY,
        params: ClientIdParams,
        response: {
          200: ClientWithSecretOut,
          ...denied,
          404: ErrorOut,
          409: ErrorOut,
          422: ValidationErrorOut,
        },
      },
    },
    async (request) => {
      const { client, client_secret } = await clients.rotateSecret(
        request.params.client_id,
        actorContext(request),
      )
      return { ...toClientOut(client), client_secret }
    },
  )
}
