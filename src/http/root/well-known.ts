import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { Deps } from '../../deps.js'

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
export const wellKnownRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  const { config, keys } = deps
  const base = config.publicUrl
  // RFC 8414 §3.3: `issuer` must equal the URL the metadata was fetched from, and
  // the tokens' `iss`; both are JWT_ISSUER (default PUBLIC_URL).
  const metadata = {
    issuer: config.jwtIssuer,
    token_endpoint: `${base}/api/v1/auth/token`,
    revocation_endpoint: `${base}/api/v1/auth/revoke`,
    introspection_endpoint: `${base}/api/v1/auth/introspect`,
    ...(keys.alg !== 'HS256' && { jwks_uri: `${base}/.well-known/jwks.json` }),
    grant_types_supported: ['password', 'refresh_token'],
    // No authorization endpoint yet (password grant only), so no response types.
    response_types_supported: [],
    scopes_supported: [],
    // Public clients (RFC 6749 §2.1): a client_secret is accepted but never checked.
    token_endpoint_auth_methods_supported: ['none'],
    revocation_endpoint_auth_methods_supported: ['none'],
    service_documentation: `${base}/docs`,
  }

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
      return metadata
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
      await keys.sync()
      return keys.jwks()
    },
  )
}
