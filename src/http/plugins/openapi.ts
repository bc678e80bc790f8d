import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

export const SECURITY = [{ OAuth2PasswordBearer: [] }]

export default fp(async function openapiPlugin(app: FastifyInstance) {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Keygate',
        version: '0.1.0',
        description:
          'Authentication API: sign up, log in through the OAuth2 password flow, call protected routes with the bearer token. Press **Authorize** and log in with your email (or username) and password; leave client_id and client_secret empty.',
      },
      // No absolute `servers`: Swagger UI then calls the origin it was loaded from.
      tags: [
        { name: 'auth', description: 'Sign up, tokens, sessions' },
        { name: 'users', description: 'The current user and, for superusers, everyone' },
        { name: 'posts', description: 'Blog posts: the protected resource' },
        { name: 'health', description: 'Liveness, readiness, discovery' },
      ],
      components: {
        securitySchemes: {
          OAuth2PasswordBearer: {
            type: 'oauth2',
            // Relative, and with scopes declared (empty): what Swagger UI 5 needs.
            flows: { password: { tokenUrl: '/api/v1/auth/token', scopes: {} } },
          },
        },
      },
    },
  })
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: {
      docExpansion: 'list',
      deepLinking: false,
      tryItOutEnabled: true,
      validatorUrl: null,
    },
    // Swagger UI's own CSP, minus the upgrade that would break http:// deployments.
    staticCSP: true,
    // Swagger UI's React components set style attributes, which need 'unsafe-inline'
    // for styles (scripts stay 'self' only).
    transformStaticCSP: (header) =>
      header
        .replace(/\s*upgrade-insecure-requests;?/, '')
        .replace(/style-src [^;]*;/, "style-src 'self' 'unsafe-inline';"),
  })
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
})
