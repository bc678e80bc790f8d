import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { RouteDeps } from '../route-config.js'

const tags = ['health']

const Strings = Type.Array(Type.String())
const Metadata = Type.Object(
  {
    issuer: Type.String(),
    authorization_endpoint: Type.String(),
    token_endpoint: Type.String(),
    userinfo_endpoint: Type.String(),
    end_session_endpoint: Type.String(),
    jwks_uri: Type.String(),
    revocation_endpoint: Type.String(),
    introspection_endpoint: Type.String(),
    response_types_supported: Strings,
    response_modes_supported: Strings,
    grant_types_supported: Strings,
    code_challenge_methods_supported: Strings,
    token_endpoint_auth_methods_supported: Strings,
    revocation_endpoint_auth_methods_supported: Strings,
    introspection_endpoint_auth_methods_supported: Strings,
    scopes_supported: Strings,
    claims_supported: Strings,
    subject_types_supported: Strings,
    id_token_signing_alg_values_supported: Strings,
    authorization_response_iss_parameter_supported: Type.Boolean(),
    prompt_values_supported: Strings,
    claims_parameter_supported: Type.Boolean(),
    request_parameter_supported: Type.Boolean(),
    request_uri_parameter_supported: Type.Boolean(),
    service_documentation: Type.String(),
  },
  { additionalProperties: true },
)

const Jwks = Type.Object({
  keys: Type.Array(
    Type.Object({ kid: Type.Optional(Type.String()) }, { additionalProperties: true }),
  ),
})

/** Discovery for clients and resource servers: OIDC/RFC 8414 metadata and the RFC 7517 key set. */
export const wellKnownRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { services }) => {
  const { discovery } = services

  app.get(
    '/.well-known/openid-configuration',
    {
      schema: {
        tags,
        operationId: 'openid_configuration',
        summary: 'OpenID Provider metadata (OIDC Discovery 1.0)',
        description: 'The same document as /.well-known/oauth-authorization-server.',
        response: { 200: Metadata },
      },
    },
    async (_request, reply) => {
      reply.header('Cache-Control', 'public, max-age=3600')
      return discovery.metadata()
    },
  )

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
        summary: 'Public signing keys (RFC 7517): access-token keys when asymmetric, ID-token keys',
        description:
          'Every retained key is listed, so tokens signed before a rotation keep verifying until they expire. With HS256 only the RS256 keys that sign ID tokens are listed (the HS256 secret never is).',
        response: { 200: Jwks },
      },
    },
    async (_request, reply) => {
      reply.header('Cache-Control', 'public, max-age=300')
      return discovery.jwks()
    },
  )
}
