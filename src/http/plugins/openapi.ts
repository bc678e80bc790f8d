import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { SCOPE_DESCRIPTIONS } from '../../domain/scopes.js'
import { documentObject, documentRoute } from '../openapi-document.js'

export const SECURITY = [{ OAuth2PasswordBearer: [] }]

// Keygate's mark for the Swagger UI top bar and the tab (in place of Fastify's).
const LOGO = Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" width="160" height="40" viewBox="0 0 160 40"><circle cx="14" cy="20" r="9" fill="none" stroke="#fff" stroke-width="4"/><path d="M23 20h16v7M33 20v5" fill="none" stroke="#fff" stroke-width="4"/><text x="48" y="28" fill="#fff" font-family="sans-serif" font-size="22" font-weight="bold">Keygate</text></svg>',
)
const FAVICON = Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#1b1f3b"/><circle cx="11" cy="16" r="5.5" fill="none" stroke="#fff" stroke-width="3"/><path d="M16.5 16H27v5M23 16v4" fill="none" stroke="#fff" stroke-width="3"/></svg>',
)

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
        { name: 'clients', description: 'Registered OAuth clients (superuser)' },
        { name: 'health', description: 'Liveness, readiness, discovery' },
        { name: 'audit', description: "The audit log and the caller's own security events" },
        { name: 'oidc', description: 'OpenID Connect: UserInfo' },
      ],
      components: {
        securitySchemes: {
          OAuth2PasswordBearer: {
            type: 'oauth2',
            // Relative, and with the scopes in plain words: Swagger UI 5 lists them to tick.
            flows: {
              password: { tokenUrl: '/api/v1/auth/token', scopes: { ...SCOPE_DESCRIPTIONS } },
            },
          },
        },
      },
    },
    // Operation ids, shared statuses, named components, descriptions: ../openapi-document.ts.
    transform: documentRoute as never,
    transformObject: documentObject as never,
  })
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    theme: {
      title: 'Keygate API',
      favicon: [
        {
          filename: 'favicon.svg',
          rel: 'icon',
          sizes: 'any',
          type: 'image/svg+xml',
          content: FAVICON,
        },
      ],
    },
    logo: { type: 'image/svg+xml', content: LOGO, href: '/docs', target: '_self' },
    uiConfig: {
      // The document at /openapi.json, the one clients are generated from (the
      // plugin's own url, /docs/json, is set after uiConfig; \`urls\` wins over it).
      urls: [{ url: '/openapi.json', name: 'Keygate API' }],
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
