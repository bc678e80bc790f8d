import { randomUUID } from 'node:crypto'
import cookie from '@fastify/cookie'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Ajv } from 'ajv'
import formats from 'ajv-formats'
import Fastify, { type FastifyInstance, type FastifyServerOptions, LogController } from 'fastify'
import type { Config } from './config.js'
import { MIGRATIONS_LOG_MESSAGE } from './db/migrate.js'
import { createDeps, type Deps, type DepsOverrides } from './deps.js'
import { isValidEmail } from './domain/user.js'
import { adminRoutes } from './http/api/admin-users.js'
import { appsRoutes } from './http/api/apps.js'
import { auditRoutes } from './http/api/audit.js'
import { clientsRoutes } from './http/api/clients.js'
import { emailVerificationRoutes } from './http/api/email-verification.js'
import { mfaRoutes } from './http/api/mfa.js'
import { passkeysRoutes } from './http/api/passkeys.js'
import { passwordResetRoutes } from './http/api/password-reset.js'
import { postsRoutes } from './http/api/posts.js'
import { revocationRoutes } from './http/api/revocations.js'
import { sessionsRoutes } from './http/api/sessions.js'
import { authRoutes } from './http/api/signup-login.js'
import { tokenRoutes } from './http/api/tokens.js'
import { usersRoutes } from './http/api/users.js'
import { guardConnections } from './http/connection-guard.js'
import { authorizeRoutes } from './http/oauth/authorize.js'
import { logoutPages, rpLogoutRoutes } from './http/oauth/logout.js'
import { userinfoRoutes } from './http/oauth/userinfo.js'
import { accountPages } from './http/pages/account.js'
import { adminConsole } from './http/pages/admin/console.js'
import { connectedAppsPages } from './http/pages/connected-apps.js'
import { consentPages } from './http/pages/consent.js'
import { assetRoutes } from './http/pages/kit/assets.js'
import { browserScriptRoutes } from './http/pages/kit/browser-scripts.js'
import { hostedPages } from './http/pages/kit/page-context.js'
import { passkeyCeremonyRoutes } from './http/pages/passkey-ceremonies.js'
import { passkeyPages } from './http/pages/passkey-pages.js'
import { passwordResetPages } from './http/pages/password-reset.js'
import { signinRoutes } from './http/pages/signin.js'
import { secondStepPages } from './http/pages/signin-second-step.js'
import { signoutPages } from './http/pages/signout.js'
import { signupRoutes } from './http/pages/signup.js'
import { verifyEmailPages } from './http/pages/verify-email.js'
import authPlugin from './http/plugins/bearer-guard.js'
import bodyParsingPlugin from './http/plugins/body-parsing.js'
import errorsPlugin, { clientErrors, frameworkErrors } from './http/plugins/errors.js'
import metricsPlugin from './http/plugins/metrics.js'
import notFoundPlugin from './http/plugins/not-found.js'
import openapiPlugin from './http/plugins/openapi.js'
import responseHeadersPlugin from './http/plugins/response-headers.js'
import scopeCheckPlugin from './http/plugins/scope-check.js'
import rateLimitPlugin from './http/plugins/throttle-hooks.js'
import { healthRoutes } from './http/root/health.js'
import { metricsRoutes } from './http/root/metrics.js'
import { wellKnownRoutes } from './http/root/well-known.js'

export interface BuildOptions extends DepsOverrides {
  /** where JSON log lines go (default stdout); tests capture them here */
  logStream?: { write(line: string): void }
}

export const BODY_LIMIT = 64 * 1024

const PRUNE_INTERVAL_MS = 60 * 60 * 1000

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

// Bodies are validated strictly (12345678 is not a string); query and path
// values arrive as text and are coerced. Unknown body fields are dropped.
function createAjv(coerceTypes: boolean) {
  const ajv = new Ajv({
    removeAdditional: 'all',
    useDefaults: true,
    coerceTypes,
    allErrors: true,
    strict: false,
  })
  // ajv-formats is CommonJS: its default export arrives as `.default` under NodeNext.
  const addFormats = formats.default ?? formats
  addFormats(ajv, ['email', 'uuid', 'date-time'])
  // SPEC §3: emails are trimmed before use, so surrounding spaces are not a format error.
  return ajv.addFormat('email', (value: string) => isValidEmail(value.trim()))
}

function loggerOptions(
  config: Config,
  stream: BuildOptions['logStream'],
): FastifyServerOptions['logger'] {
  return {
    level: config.logLevel,
    ...(stream && { stream }),
    // Headers are never logged (they carry tokens); the query string neither.
    serializers: {
      req: (req) => ({ method: req.method, url: req.url.split('?')[0], remoteAddress: req.ip }),
    },
  }
}

/** FIRST_SUPERUSER_EMAIL / _PASSWORD: created at start when absent (services/users.ts). */
async function ensureFirstSuperuser(app: FastifyInstance, deps: Deps): Promise<void> {
  const { firstSuperuserEmail: email, firstSuperuserPassword: password } = deps.config
  if (email === undefined || password === undefined) return
  const { outcome, weakPassword } = await deps.services.users.ensureFirstSuperuser(email, password)
  if (outcome === 'created') app.log.info('first superuser created')
  if (outcome === 'not-superuser') {
    app.log.warn(
      'FIRST_SUPERUSER_EMAIL: an account with this email exists and is not a superuser; it was left unchanged',
    )
  }
  if (weakPassword) {
    app.log.warn('FIRST_SUPERUSER_PASSWORD: fails the password policy; change it after logging in')
  }
}

const keysOf = new WeakMap<FastifyInstance, Deps['keys'][]>()

/** Re-reads the app's key files now (what a SIGHUP handler in cli/serve.ts calls). */
export const reloadSigningKeys = async (app: FastifyInstance): Promise<void> => {
  for (const keys of keysOf.get(app) ?? []) await keys.reload()
}

/** The composition root: config in, a ready Fastify app out. Never listens or exits. */
export async function buildApp(
  config: Config,
  options: BuildOptions = {},
): Promise<FastifyInstance> {
  const app = Fastify({
    logger: loggerOptions(config, options.logStream),
    bodyLimit: BODY_LIMIT,
    trustProxy: config.trustProxy ?? false,
    onProtoPoisoning: 'remove',
    onConstructorPoisoning: 'remove',
    return503OnClosing: true,
    // /api/v1/posts and /api/v1/posts/ are one route (documented without the slash).
    routerOptions: { ignoreTrailingSlash: true },
    frameworkErrors,
    clientErrorHandler: clientErrors,
    // Replaced by the hooks below: one info line per request instead of two.
    logController: new LogController({ disableRequestLogging: true }),
    requestTimeout: 30_000,
    // An X-Request-ID from the caller is kept when it is a sane token, else one is made.
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id']
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID()
    },
  }).withTypeProvider<TypeBoxTypeProvider>()

  guardConnections(app.server, {
    maxConnections: config.maxConnections,
    perClient: config.trustProxy ? 0 : config.maxConnectionsPerClient,
  })

  const bodyAjv = createAjv(false)
  const paramsAjv = createAjv(true)
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? bodyAjv : paramsAjv).compile(schema),
  )
  // Synchronous hooks: an async one costs a promise per request.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('X-Request-ID', request.id)
    request.log.debug({ req: request }, 'incoming request')
    done()
  })
  app.addHook('onResponse', (request, reply, done) => {
    request.log.info(
      { req: request, res: reply, responseTime: reply.elapsedTime },
      'request completed',
    )
    done()
  })

  const deps = await createDeps(config, options)
  if (deps.migrated) app.log.info({ applied: deps.migrated }, MIGRATIONS_LOG_MESSAGE)
  app.addHook('onClose', deps.close)
  if (config.production && deps.serverSecret.source === 'database') {
    app.log.warn(
      'SECRET_KEY: unset, so the secret keying throttle names, device cookies and refresh seals is kept in the database; set SECRET_KEY (at least 32 bytes) to keep it out',
    )
  }
  keysOf.set(app, [...new Set([deps.keys, deps.idTokenKeys])])
  await ensureFirstSuperuser(app, deps)

  await app.register(errorsPlugin)
  await app.register(notFoundPlugin)
  await app.register(responseHeadersPlugin, {
    corsOrigins: config.corsOrigins,
    corsCredentials: config.corsCredentials,
  })
  await app.register(bodyParsingPlugin)
  // Parses Cookie for the hosted pages (browser session, CSRF secret); no signing: the values are opaque.
  await app.register(openapiPlugin)
  await app.register(authPlugin)
  await app.register(scopeCheckPlugin)
  await app.register(rateLimitPlugin, { throttle: deps.services.throttle })
  await app.register(metricsPlugin, { metrics: deps.metrics })
  const { metrics } = deps
  if (metrics && config.metricsToken) {
    await app.register(metricsRoutes, { metrics, token: config.metricsToken })
  }

  // Routes get the settings and the services, never the database or repos.
  const routeDeps = { config: deps.config, services: deps.services }
  await app.register(healthRoutes, routeDeps)
  await app.register(assetRoutes)
  // Cookies belong to the browser-facing routes alone: the API never reads one,
  // and @fastify/cookie's onSend hook would cost every API response.
  await app.register(async (browser) => {
    await browser.register(cookie)
    await browser.register(hostedPages, {
      ...routeDeps,
      pages: [
        signinRoutes,
        secondStepPages,
        signupRoutes,
        passwordResetPages,
        signoutPages,
        accountPages,
        passkeyPages,
        verifyEmailPages,
        logoutPages,
        connectedAppsPages,
        consentPages,
        adminConsole,
      ],
    })
    await browser.register(passkeyCeremonyRoutes, routeDeps)
    // The OpenID provider's browser endpoints that other sites may post to (outside the pages' CSRF check).
    await browser.register(authorizeRoutes, routeDeps)
    await browser.register(rpLogoutRoutes, routeDeps)
  })
  await app.register(browserScriptRoutes)
  await app.register(wellKnownRoutes, routeDeps)
  await app.register(userinfoRoutes, routeDeps)
  await app.register(authRoutes, { prefix: '/api/v1/auth', ...routeDeps })
  await app.register(tokenRoutes, { prefix: '/api/v1/auth', ...routeDeps })
  await app.register(emailVerificationRoutes, { prefix: '/api/v1/auth', ...routeDeps })
  await app.register(revocationRoutes, { prefix: '/api/v1/auth', ...routeDeps })
  await app.register(passwordResetRoutes, { prefix: '/api/v1/auth/password-reset', ...routeDeps })
  // Static /me routes win over the admin routes' /:id (find-my-way prefers static segments).
  await app.register(usersRoutes, { prefix: '/api/v1/users', ...routeDeps })
  await app.register(sessionsRoutes, { prefix: '/api/v1/users/me/sessions', ...routeDeps })
  await app.register(passkeysRoutes, { prefix: '/api/v1/users/me/passkeys', ...routeDeps })
  await app.register(appsRoutes, { prefix: '/api/v1/users/me/apps', ...routeDeps })
  await app.register(adminRoutes, { prefix: '/api/v1/users', ...routeDeps })
  await app.register(mfaRoutes, { prefix: '/api/v1/users', ...routeDeps })
  await app.register(postsRoutes, { prefix: '/api/v1/posts', ...routeDeps })
  await app.register(clientsRoutes, { prefix: '/api/v1/clients', ...routeDeps })
  await app.register(auditRoutes, { prefix: '/api/v1', ...routeDeps })

  // Dead sessions, expired refresh tokens and audit events past
  // AUDIT_RETENTION_DAYS are deleted hourly; unref() so the timer never keeps
  // a process alive on its own.
  const pruner = setInterval(() => {
    for (const prune of [
      deps.services.sessions.prune,
      deps.services.audit.prune,
      deps.services.revocationFeed.prune,
      deps.services.authorizationCodes.prune,
    ])
      prune().catch((err) => app.log.error({ err }, 'pruning failed'))
  }, PRUNE_INTERVAL_MS).unref()
  app.addHook('onClose', async () => clearInterval(pruner))

  await app.ready()
  return app
}
