import type { Config } from './config.js'
import { createDatabase, type Database } from './db/database.js'
import { migrateToLatest } from './db/migrate.js'
import { type Clock, systemClock } from './domain/time.js'
import { createAuditEventsRepo } from './repos/audit-events.js'
import { createClientsRepo } from './repos/clients.js'
import { createConsentsRepo } from './repos/consents.js'
import { createEmailTokensRepo } from './repos/email-tokens.js'
import { createFactorsRepo } from './repos/factors.js'
import { createPasswordResetsRepo } from './repos/password-resets.js'
import { createPostsRepo } from './repos/posts.js'
import { createRefreshTokensRepo } from './repos/refresh-tokens.js'
import { createServerSecretsRepo } from './repos/server-secrets.js'
import { createSessionsRepo } from './repos/sessions.js'
import { createTransact } from './repos/transaction.js'
import { createUsersRepo } from './repos/users.js'
import { createAdminService } from './services/accounts/admin.js'
import { createEmailVerificationService } from './services/accounts/email-verification.js'
import { createPasswordPolicy } from './services/accounts/password-policy.js'
import { createPasswordResetService } from './services/accounts/password-reset.js'
import { createAccountService } from './services/accounts/profile.js'
import { createUsersService } from './services/accounts/users.js'
import { createAuditLogService } from './services/audit/audit-log.js'
import { createTokenService } from './services/crypto/access-tokens.js'
import { createCsrfTokens } from './services/crypto/csrf.js'
import { createPasswordHasher } from './services/crypto/passwords.js'
import { loadServerSecret } from './services/crypto/server-secret.js'
import { createFactorsService } from './services/factors/factors.js'
import { createReadinessService } from './services/health/readiness.js'
import { createImportUsersService } from './services/import/import-users.js'
import { loadSigningKeys, type SigningKeys } from './services/keys/signing-keys.js'
import { createMailer } from './services/mail/mailer.js'
import { countSignIns, countThrottleDecisions } from './services/metrics/instrument.js'
import { loadMetrics } from './services/metrics/load.js'
import type { Metrics } from './services/metrics/metrics.js'
import { createClientsService } from './services/oauth/clients.js'
import { createConsentRequests } from './services/oauth/consent-requests.js'
import { createConsentsService } from './services/oauth/consents.js'
import { createDiscoveryService } from './services/oauth/discovery.js'
import { createIntrospectionService } from './services/oauth/introspection.js'
import { createOAuthService } from './services/oauth/token-endpoint.js'
import { createPostsService } from './services/posts.js'
import { createAuthService } from './services/sessions/authentication.js'
import { createBrowserSessionsService } from './services/sessions/browser-sessions.js'
import { createKnownDevices } from './services/sessions/known-device.js'
import { createSessionsService } from './services/sessions/sessions.js'
import { createMemoryStore, type RateLimitStore } from './services/throttle/memory-store.js'
import { createRedisStore } from './services/throttle/redis-store.js'
import { createThrottle } from './services/throttle/throttle.js'

/** What a test (or the CLI) may hand in instead of letting createDeps open it. */
export interface DepsOverrides {
  database?: Database
  clock?: Clock
  keys?: SigningKeys
  /** throttling counters (tests pass one with their own Redis key prefix) */
  rateLimitStore?: RateLimitStore
  /** a metrics registry (else one is made when METRICS_TOKEN or METRICS_PORT is set) */
  metrics?: Metrics
}

/** Redis when REDIS_URL is set (shared by every instance), else process memory. */
function createRateLimitStore(config: Config): RateLimitStore {
  return config.redisUrl && config.rateLimit.enabled
    ? createRedisStore(config.redisUrl, { prefix: `${config.redisKeyPrefix}rl:` })
    : createMemoryStore()
}

/** Wires repositories and services. Knows nothing of HTTP, so the CLI shares it. */
export async function createDeps(config: Config, overrides: DepsOverrides = {}) {
  // Keys first: a missing production key file should stop start-up before the database is touched.
  const keys = overrides.keys ?? (await loadSigningKeys(config))
  const ownsDatabase = overrides.database === undefined
  const database =
    overrides.database ?? createDatabase(config.databaseUrl, { poolSize: config.dbPoolSize })
  let migrated: string[] | undefined
  try {
    if (config.migrateOnStart)
      migrated = (await migrateToLatest(database.db)).map((r) => r.migrationName)
  } catch (err) {
    if (ownsDatabase) await database.close()
    throw err
  }

  const clock = overrides.clock ?? systemClock
  const metrics = overrides.metrics ?? (await loadMetrics(config))
  if (metrics && database.pool) metrics.watchPool(database.pool)
  const hasher = createPasswordHasher(config.argon2, config.hashConcurrency, metrics?.hashQueue)
  const tokens = createTokenService({
    keys,
    issuer: config.jwtIssuer,
    audience: config.jwtAudience,
    accessTtlSeconds: config.accessTokenExpireMinutes * 60,
    clock,
  })

  const repos = {
    users: createUsersRepo(database.db),
    sessions: createSessionsRepo(database.db),
    refreshTokens: createRefreshTokensRepo(database.db),
    posts: createPostsRepo(database.db),
    passwordResets: createPasswordResetsRepo(database.db),
    clients: createClientsRepo(database.db),
    audit: createAuditEventsRepo(database.db),
    emailTokens: createEmailTokensRepo(database.db),
    factors: createFactorsRepo(database.db),
    consents: createConsentsRepo(database.db),
  }
  const serverSecret = await loadServerSecret(
    config.secretKey,
    createServerSecretsRepo(database.db),
    clock,
  ).catch(async (err) => {
    if (ownsDatabase) await database.close()
    throw err
  })
  const ownsStore = overrides.rateLimitStore === undefined
  const rateLimitStore = overrides.rateLimitStore ?? createRateLimitStore(config)
  const throttle = createThrottle({
    settings: config.rateLimit,
    store: countThrottleDecisions(rateLimitStore, metrics),
    clock,
    secret: serverSecret.key('throttle-keys'),
  })
  const transact = createTransact(database.db)
  const policy = createPasswordPolicy(config.passwordMinLength)
  const mailer = createMailer(config.smtpUrl, config.mailFrom)
  const passwordReset = createPasswordResetService({
    config,
    clock,
    hasher,
    policy,
    users: repos.users,
    passwordResets: repos.passwordResets,
    transact,
    mailer,
    throttle,
  })
  const emailVerification = createEmailVerificationService({
    config,
    clock,
    users: repos.users,
    transact,
    mailer,
    throttle,
  })
  const factors = createFactorsService({
    clock,
    hasher,
    throttle,
    factors: repos.factors,
    audit: repos.audit,
    transact,
    mailer,
    sealKey: serverSecret.key('totp-secret'),
    recoveryKey: serverSecret.key('recovery-codes'),
  })
  const devices = createKnownDevices(serverSecret.key('known-device'), clock)
  const auth = countSignIns(
    createAuthService({
      config,
      clock,
      hasher,
      tokens,
      throttle,
      devices,
      transact,
      ...repos,
      secondFactors: factors,
    }),
    metrics,
  )
  const sessions = createSessionsService({
    config,
    clock,
    auth,
    metrics,
    transact,
    ...repos,
    sealKey: serverSecret.key('refresh-successor'),
  })
  const clients = createClientsService({ clock, clients: repos.clients, transact })
  const account = createAccountService({
    clock,
    hasher,
    policy,
    transact,
    throttle,
    emailVerification,
  })
  const services = {
    auth,
    sessions,
    browserSessions: createBrowserSessionsService({
      config,
      clock,
      auth,
      account,
      sessions: repos.sessions,
      devices,
      transact,
    }),
    /** the hosted pages' form tokens */
    csrf: createCsrfTokens(serverSecret.key('csrf')),
    introspection: createIntrospectionService({ config, clock, auth, tokens, transact, ...repos }),
    clients,
    oauth: createOAuthService({ auth, sessions, clients, tokens }),
    users: createUsersService({
      clock,
      hasher,
      policy,
      throttle,
      users: repos.users,
      transact,
      emailVerification,
    }),
    account,
    emailVerification,
    factors,
    admin: createAdminService({ clock, users: repos.users, transact }),
    passwordReset,
    consents: createConsentsService({ clock, consents: repos.consents, transact }),
    consentRequests: createConsentRequests(serverSecret.key('consent-request'), clock),
    throttle,
    posts: createPostsService({ clock, posts: repos.posts }),
    discovery: createDiscoveryService({ config, keys }),
    // Without Redis the throttled endpoints answer 503, so the instance is not ready.
    readiness: createReadinessService([
      { name: 'database' as const, ping: () => database.ping() },
      { name: 'redis' as const, ping: () => rateLimitStore.ping() },
    ]),
    importUsers: createImportUsersService({ transact, hasher, clock }),
    audit: createAuditLogService({ config, clock, audit: repos.audit }),
  }

  return {
    config,
    database,
    /** migrations applied at start-up (undefined when MIGRATE_ON_START=off) */
    migrated,
    clock,
    keys,
    /** SECRET_KEY-derived keys for Keygate's MACs and seals (device cookies, throttle keys) */
    serverSecret,
    hasher,
    tokens,
    repos,
    transact,
    policy,
    services,
    /** throttling counters: process memory, or Redis shared by instances (checked by /readyz) */
    rateLimitStore,
    /** Prometheus series; undefined when neither METRICS_TOKEN nor METRICS_PORT is set */
    metrics,
    /** Closes only what createDeps opened; a database handed in belongs to the caller. */
    async close() {
      await hasher.close()
      // Mail still being sent is let finish (bounded by the mailer's timeouts).
      await passwordReset.drain()
      await emailVerification.drain()
      await factors.drain()
      mailer?.close()
      if (ownsStore) await rateLimitStore.close()
      if (ownsDatabase) await database.close()
    },
  }
}

export type Deps = Awaited<ReturnType<typeof createDeps>>
/** What route plugins are given beside the config (routes never reach repos or the database). */
export type Services = Deps['services']
