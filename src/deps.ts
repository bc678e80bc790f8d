import cluster from 'node:cluster'
import type { Config } from './config.js'
import { createDatabase, type Database } from './db/database.js'
import { migrateToLatest } from './db/migrate.js'
import type { ClientContext, Session } from './domain/session.js'
import { type Clock, systemClock } from './domain/time.js'
import type { User } from './domain/user.js'
import { createEmailTokensRepo } from './repos/accounts/email-tokens.js'
import { createFactorsRepo } from './repos/accounts/factors.js'
import { createPasskeysRepo } from './repos/accounts/passkeys.js'
import { createPasswordResetsRepo } from './repos/accounts/password-resets.js'
import { createUsersRepo } from './repos/accounts/users.js'
import { createAuditEventsRepo } from './repos/audit-events.js'
import { createAuthorizationCodesRepo } from './repos/oauth/authorization-codes.js'
import { createClientsRepo } from './repos/oauth/clients.js'
import { createConsentsRepo } from './repos/oauth/consents.js'
import { createPostsRepo } from './repos/posts.js'
import type { RepoEvents } from './repos/sessions/changes.js'
import { createRefreshTokensRepo } from './repos/sessions/refresh-tokens.js'
import { createRevocationsRepo } from './repos/sessions/revocations.js'
import { createSessionsRepo } from './repos/sessions/sessions.js'
import { createServerSecretsRepo } from './repos/support/server-secrets.js'
import { createTransact } from './repos/support/transaction.js'
import { createAdminService } from './services/accounts/admin.js'
import { createEmailVerificationService } from './services/accounts/email-verification.js'
import { createPasskeysService } from './services/accounts/passkeys.js'
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
import { loadIdTokenKeys } from './services/keys/id-token-keys.js'
import { loadSigningKeys, type SigningKeys } from './services/keys/signing-keys.js'
import { createMailer } from './services/mail/mailer.js'
import { countSignIns, countThrottleDecisions } from './services/metrics/instrument.js'
import { loadMetrics } from './services/metrics/load.js'
import type { Metrics } from './services/metrics/metrics.js'
import { createClientsService } from './services/oauth/clients.js'
import { createDiscoveryService } from './services/oauth/discovery.js'
import { createIntrospectionService } from './services/oauth/introspection.js'
import { redirectUriMatches } from './services/oauth/redirect-uris.js'
import { createOAuthService } from './services/oauth/token-endpoint.js'
import { createAuthorizationCodesService } from './services/oidc/authorization-codes.js'
import type { AuthorizeParams } from './services/oidc/authorization-request.js'
import type { AuthorizeOutcome } from './services/oidc/authorize.js'
import { createAuthorizeService } from './services/oidc/authorize.js'
import { createConsentService } from './services/oidc/consent.js'
import { createConsentRequests } from './services/oidc/consent-requests.js'
import { createConsentsService } from './services/oidc/consents.js'
import { createIdTokenService } from './services/oidc/id-tokens.js'
import { createRpLogoutService } from './services/oidc/rp-logout.js'
import { createPostsService } from './services/posts.js'
import { createChangeBus } from './services/revocations/change-bus.js'
import {
  alongside,
  inProcessTransport,
  ipcTransport,
  postgresTransport,
  redisTransport,
} from './services/revocations/change-transports.js'
import { createRevocationFeedService } from './services/revocations/feed.js'
import { createAuthService } from './services/sessions/authentication.js'
import { createBrowserSessionsService } from './services/sessions/browser-sessions.js'
import { createKnownDevices } from './services/sessions/known-device.js'
import { createLivenessCache } from './services/sessions/liveness.js'
import { createSessionsService } from './services/sessions/sessions.js'
import { createMemoryStore, type RateLimitStore } from './services/throttle/memory-store.js'
import { createRedisStore } from './services/throttle/redis-store.js'
import { createThrottle } from './services/throttle/throttle.js'

/** What a test (or the CLI) may hand in instead of letting createDeps open it. */
export interface DepsOverrides {
  database?: Database
  clock?: Clock
  keys?: SigningKeys
  /** the keys ID tokens are signed with (else the access-token keys, or the RS256 set) */
  idTokenKeys?: SigningKeys
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

// Verifiers accept up to 30 s of clock skew past a token's exp; a minute of margin.
const FEED_SKEW_SECONDS = 60

/**
 * How committed changes reach the other instances: Redis pub/sub when
 * REDIS_URL is set, else PostgreSQL LISTEN/NOTIFY, else (SQLite) the cluster's
 * IPC between WEB_CONCURRENCY workers; and always in-process between instances
 * sharing the database handle. Separate processes on one SQLite file must be workers of
 * one `keygate serve` (or use Redis) to see each other's revocations at once.
 */
function changeTransport(config: Config, database: Database) {
  const local = inProcessTransport(database.db)
  if (config.redisUrl) {
    return alongside(local, redisTransport(config.redisUrl, `${config.redisKeyPrefix}changes`))
  }
  if (database.listen) return alongside(local, postgresTransport(database, 'keygate_changes'))
  if (cluster.isWorker) return alongside(local, ipcTransport())
  return local
}

/** Wires repositories and services. Knows nothing of HTTP, so the CLI shares it. */
export async function createDeps(config: Config, overrides: DepsOverrides = {}) {
  // Keys first: a missing production key file should stop start-up before the database is touched.
  const keys = overrides.keys ?? (await loadSigningKeys(config))
  const idTokenKeys = overrides.idTokenKeys ?? (await loadIdTokenKeys(config, keys))
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

  // Committed revocations and user changes reach every instance's liveness
  // cache and the feed's waiting followers through the bus.
  const bus = createChangeBus(changeTransport(config, database))
  const events: RepoEvents = {
    // A feed entry outlives every access token it covers, plus the verifiers' 30 s of skew.
    coverSeconds: config.accessTokenExpireMinutes * 60 + FEED_SKEW_SECONDS,
    committed: (changes) => bus.publish(changes),
  }
  const repos = {
    users: createUsersRepo(database.db, events),
    sessions: createSessionsRepo(database.db, events),
    revocations: createRevocationsRepo(database.db, events),
    refreshTokens: createRefreshTokensRepo(database.db),
    posts: createPostsRepo(database.db),
    passwordResets: createPasswordResetsRepo(database.db),
    clients: createClientsRepo(database.db),
    authorizationCodes: createAuthorizationCodesRepo(database.db),
    audit: createAuditEventsRepo(database.db),
    emailTokens: createEmailTokensRepo(database.db),
    factors: createFactorsRepo(database.db),
    passkeys: createPasskeysRepo(database.db),
    consents: createConsentsRepo(database.db),
  }
  const serverSecret = await loadServerSecret(
    config.secretKey,
    createServerSecretsRepo(database.db),
    clock,
  ).catch(async (err) => {
    await bus.close()
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
  const transact = createTransact(database.db, events)
  const liveness = createLivenessCache({ bus, load: (sid) => repos.sessions.findUnrevoked(sid) })
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
    passkeys: repos.passkeys,
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
      liveness,
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
  const idTokens = createIdTokenService({
    keys: idTokenKeys,
    issuer: config.jwtIssuer,
    // An ID token lives as long as the access token issued beside it.
    ttlSeconds: config.accessTokenExpireMinutes * 60,
    clock,
  })
  const authorizationCodes = createAuthorizationCodesService({
    config,
    clock,
    codes: repos.authorizationCodes,
    sessions: repos.sessions,
    users: repos.users,
    transact,
    auth,
    tokens,
    idTokens,
  })
  const account = createAccountService({
    clock,
    hasher,
    policy,
    transact,
    throttle,
    emailVerification,
  })
  const consents = createConsentsService({ clock, consents: repos.consents, transact })
  const consentRequests = createConsentRequests(serverSecret.key('consent-request'), clock)
  const consent = createConsentService({
    publicUrl: config.publicUrl,
    issuer: config.jwtIssuer,
    clients,
    redirectUriMatches,
    consents,
    consentRequests,
    // The authorization endpoint is built below, with this step inside it.
    authorize: {
      authorize: (
        params: AuthorizeParams,
        browser: { session: Session; user: User },
      ): Promise<AuthorizeOutcome> => services.authorize.authorize(params, browser),
    },
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
      factors,
      users: repos.users,
      transact,
    }),
    /** the hosted pages' form tokens */
    csrf: createCsrfTokens(serverSecret.key('csrf')),
    introspection: createIntrospectionService({ config, clock, auth, tokens, transact, ...repos }),
    clients,
    oauth: createOAuthService({ auth, sessions, clients, tokens, codes: authorizationCodes }),
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
    passkeys: createPasskeysService({ config, clock, transact, ...repos }),
    consents,
    consentRequests,
    throttle,
    posts: createPostsService({ clock, posts: repos.posts }),
    discovery: createDiscoveryService({ config, keys, idTokenKeys }),
    idTokens,
    authorizationCodes,
    authorize: createAuthorizeService({
      config,
      clock,
      clients,
      redirectUriMatches,
      codes: authorizationCodes,
      consent,
    }),
    consent,
    rpLogout: createRpLogoutService({
      clients,
      idTokens,
      // The browser-session service is built in this same object.
      browserSessions: {
        signOut: (id: string, ctx?: ClientContext): Promise<void> =>
          services.browserSessions.signOut(id, ctx),
      },
    }),
    // Without Redis the throttled endpoints answer 503, so the instance is not ready.
    readiness: createReadinessService([
      { name: 'database' as const, ping: () => database.ping() },
      { name: 'redis' as const, ping: () => rateLimitStore.ping() },
    ]),
    importUsers: createImportUsersService({ transact, hasher, clock }),
    audit: createAuditLogService({ config, clock, audit: repos.audit }),
    revocationFeed: createRevocationFeedService({ clock, revocations: repos.revocations, bus }),
  }

  return {
    config,
    database,
    /** migrations applied at start-up (undefined when MIGRATE_ON_START=off) */
    migrated,
    clock,
    keys,
    idTokenKeys,
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
    /** committed liveness changes, between this process, its sibling workers and other instances */
    bus,
    /** the bearer guard's cached session reads; `clear()` after changing the database by hand */
    liveness,
    /** Closes only what createDeps opened; a database handed in belongs to the caller. */
    async close() {
      await hasher.close()
      // Mail still being sent is let finish (bounded by the mailer's timeouts).
      await passwordReset.drain()
      await emailVerification.drain()
      await factors.drain()
      mailer?.close()
      if (ownsStore) await rateLimitStore.close()
      await bus.close()
      if (ownsDatabase) await database.close()
    },
  }
}

export type Deps = Awaited<ReturnType<typeof createDeps>>
/** What route plugins are given beside the config (routes never reach repos or the database). */
export type Services = Deps['services']
