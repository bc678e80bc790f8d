import type { Config } from './config.js'
import { createDatabase, type Database } from './db/database.js'
import { migrateToLatest } from './db/migrate.js'
import { createPostsRepo } from './repos/posts.js'
import { createRefreshTokensRepo } from './repos/refresh-tokens.js'
import { createSessionsRepo } from './repos/sessions.js'
import { createUsersRepo } from './repos/users.js'
import { createAuthService } from './services/auth.js'
import { type Clock, systemClock } from './services/clock.js'
import { loadSigningKeys, type SigningKeys } from './services/keys.js'
import { createOAuthService } from './services/oauth.js'
import { createPasswordHasher } from './services/passwords.js'
import { createPostsService } from './services/posts.js'
import { createMemoryStore, type RateLimitStore } from './services/rate-limit.js'
import { createRedisStore } from './services/rate-limit-redis.js'
import { createThrottle } from './services/throttle.js'
import { createTokenService } from './services/tokens.js'
import { createUsersService } from './services/users.js'

/** What a test (or the CLI) may hand in instead of letting createDeps open it. */
export interface DepsOverrides {
  database?: Database
  clock?: Clock
  keys?: SigningKeys
  /** throttling counters (tests pass one with their own Redis key prefix) */
  rateLimitStore?: RateLimitStore
}

/** Redis when REDIS_URL is set (shared by every instance), else process memory. */
function createRateLimitStore(config: Config): RateLimitStore {
  return config.redisUrl && config.rateLimit.enabled
    ? createRedisStore(config.redisUrl, { prefix: `${config.redisKeyPrefix}rl:` })
    : createMemoryStore()
}

/** Wires repositories and services. Knows nothing of HTTP, so the CLI shares it. */
export async function createDeps(config: Config, overrides: DepsOverrides = {}) {
  const ownsDatabase = overrides.database === undefined
  const database =
    overrides.database ?? createDatabase(config.databaseUrl, { poolSize: config.dbPoolSize })
  try {
    if (config.migrateOnStart) await migrateToLatest(database.db)
  } catch (err) {
    if (ownsDatabase) await database.close()
    throw err
  }

  const clock = overrides.clock ?? systemClock
  const keys = overrides.keys ?? (await loadSigningKeys(config))
  const hasher = createPasswordHasher(config.argon2, config.hashConcurrency)
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
  }
  const ownsStore = overrides.rateLimitStore === undefined
  const rateLimitStore = overrides.rateLimitStore ?? createRateLimitStore(config)
  const throttle = createThrottle({ settings: config.rateLimit, store: rateLimitStore, clock })
  const auth = createAuthService({ config, clock, hasher, tokens, throttle, ...repos })
  const services = {
    auth,
    throttle,
    oauth: createOAuthService({ auth }),
    users: createUsersService({ clock, hasher, throttle, users: repos.users }),
    posts: createPostsService({ clock, posts: repos.posts }),
  }

  return {
    config,
    database,
    clock,
    keys,
    hasher,
    tokens,
    repos,
    services,
    /** Closes only what createDeps opened; a database handed in belongs to the caller. */
    async close() {
      if (ownsStore) await rateLimitStore.close()
      if (ownsDatabase) await database.close()
    },
  }
}

export type Deps = Awaited<ReturnType<typeof createDeps>>
