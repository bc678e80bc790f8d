import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { actorContext, clientContext } from '../client-context.js'
import { bearerToken, caller, createGuards } from '../plugins/bearer-guard.js'
import { SECURITY } from '../plugins/openapi.js'
import type { RouteDeps } from '../route-config.js'
import { Empty, ErrorOut, OAuthErrorOut, ValidationErrorOut } from '../schemas/common.js'
import { TokenOut } from '../schemas/signup-login.js'
import { IntrospectionOut, LogoutIn, RefreshIn, TokenFormIn } from '../schemas/tokens.js'

const tags = ['auth']
const FORM = ['application/x-www-form-urlencoded']
const Revoked = Type.Object({}, { description: 'Revoked, or there was nothing to revoke' })

/** Refresh, logout, revocation (RFC 7009) and introspection (RFC 7662), under /api/v1/auth. */
export const tokenRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { services }) => {
  const { sessions, introspection } = services
  const { requireUser } = createGuards(services.auth)

  app.post(
    '/refresh',
    {
      config: { rateLimited: true },
      schema: {
        tags,
        operationId: 'auth_refresh',
        summary: 'Trade a refresh token for a new pair (rotation)',
        description:
          'The refresh token is spent. A spent token presented again within REFRESH_REUSE_GRACE_SECONDS is answered with the refresh token it was already rotated into (and a fresh access token): a session never forks into parallel chains. After the window the whole session is revoked (reuse detection).',
        body: RefreshIn,
        response: { 200: TokenOut, 401: ErrorOut, 422: ValidationErrorOut },
      },
    },
    async (request) =>
      sessions.refresh(request.body.refresh_token, undefined, clientContext(request)),
  )

  app.post(
    '/logout',
    {
      onRequest: requireUser,
      preValidation: async (request) => {
        request.body ??= {}
      },
      schema: {
        tags,
        operationId: 'auth_logout',
        summary: 'End this session, or with {"all": true} every session',
        security: SECURITY,
        body: LogoutIn,
        response: { 204: Empty, 401: ErrorOut, 422: ValidationErrorOut },
      },
    },
    async (request, reply) => {
      await sessions.logout(caller(request), request.body.all === true, actorContext(request))
      return reply.code(204).send(null)
    },
  )

  app.post(
    '/revoke',
    {
      config: { rateLimited: true },
      schema: {
        tags,
        operationId: 'auth_revoke',
        summary: 'Revoke a token (RFC 7009)',
        description:
          'Form `token` (+ `token_type_hint`). 200 whatever the token was; revoking an access or a refresh token revokes its whole session.',
        consumes: FORM,
        body: TokenFormIn,
        response: { 200: Revoked, 400: OAuthErrorOut, 422: ValidationErrorOut },
      },
    },
    async (request) => {
      await introspection.revoke(
        request.body.token,
        request.body.token_type_hint,
        clientContext(request),
      )
      return {}
    },
  )

  app.post(
    '/introspect',
    {
      onRequest: async (request) => {
        request.auth = await introspection.authorizeCaller(bearerToken(request))
      },
      config: { rateLimited: true, noStore: true, scope: 'admin' },
      schema: {
        tags,
        operationId: 'auth_introspect',
        summary: 'Introspect a token (RFC 7662)',
        description:
          "For resource servers: authenticate with INTROSPECTION_SECRET or a superuser's access token as the bearer. `{active: false}` for anything revoked, expired or unknown.",
        security: SECURITY,
        consumes: FORM,
        body: TokenFormIn,
        response: { 200: IntrospectionOut, 400: OAuthErrorOut, 401: ErrorOut, 403: ErrorOut },
      },
    },
    async (request) => introspection.introspect(request.body.token),
  )
}
