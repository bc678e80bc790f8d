import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { RouteDeps } from '../route-config.js'

const tags = ['health']

const Metadata = Type.Object(
  {
    issuer: Type.String(),
    token_endpoint: Type.String(),
    revocation_endpoint: Type.String(),
    introspection_endpoint: Type.String(),
    jwks_uri: Type.Optional(Type.String()),
    grant_types_supported: Type.Array(Type.String()),
    response_types_supported: Type.Array(Type.String()),
    scopes_supported: Type.Array(Type.String()),
    token_endpoint_auth_methods_supported: Type.Array(Type.String()),
    revocation_endpoint_auth_methods_supported: Type.Array(Type.String()),
    service_documentation: Type.String(),
  },
  { additionalProperties: true },
)

const Jwks = Type.Object({
  keys: Type.Array(
    Type.Object({ kid: Type.Optional(Type.String()) }, { additionalProperties: true }),
  ),
})

/** Discovery for clients and resource servers: RFC 8414 metadata and the RFC 7517 key set. */
export const wellKnownRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { services }) => {
  const { discovery } = services

  app.get(
    '/.well-known/oauth-authorization-server',
    {
      schema: {
        tags,
        operationId: 'oauth_authorization_server_metadata',
        summary: 'Authorization server metadata (RFC 8414)',
        response: { 200: Metadata },
      },
    },
    async (_request, reply) => {
      reply.header('Cache-Control', 'public, max-age=3600')
      return discovery.metadata()
    },
  )

  app.get(
    '/.well-known/jwks.json',
    {
      schema: {
        tags,
        operationId: 'jwks_get',
        summary: 'Public signing keys (RFC 7517), empty with HS256',
        description:
          'Every retained key is listed, so tokens signed before a rotation keep verifying until they expire.',
        response: { 200: Jwks },
      },
    },
    async (_request, reply) => {
      reply.header('Cache-Control', 'public, max-age=300')
      return discovery.jwks()
    },
  )
}
