import type { Config } from './config.js'
import { createDatabase, type Database } from './db/database.js'
import { migrateToLatest } from './db/migrate.js'
import { createPostsRepo } from './repos/posts.js'
import { createRefreshTokensRepo } from './repos/refresh-tokens.js'
import { createSessionsRepo } from './repos/sessions.js'
import { createUsersRepo } from './repos/users.js'
import { createAuthService } from './services/auth.js'
import { type Clock, systemClock } from './services/clock.js'
import { createIntrospectionService } from './services/introspection.js'
import { loadSigningKeys, type SigningKeys } from './services/keys.js'
import { createOAuthService } from './services/oauth.js'
import { createPasswordHasher } from './services/passwords.js'
import { createPostsService } from './services/posts.js'
import { createSessionsService } from './services/sessions.js'
import { createTokenService } from './services/tokens.js'
import { createUsersService } from './services/users.js'

/** What a test (or the CLI) may hand in instead of letting createDeps open it. */
export interface DepsOverrides {
  database?: Database
  clock?: Clock
  keys?: SigningKeys
}

/** Wires repositories and services. Knows nothing of HTTP, so the CLI shares it. */
export async function createDeps(config: Config, overrides: DepsOverrides = {}) {
  // Keys first: a missing production key file should stop start-up before the database is touched.
  const keys = overrides.keys ?? (await loadSigningKeys(config))
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
  const auth = createAuthService({ config, clock, hasher, tokens, ...repos })
  const sessions = createSessionsService({ config, clock, auth, ...repos })
  const services = {
    auth,
    sessions,
    introspection: createIntrospectionService({ config, clock, auth, tokens, ...repos }),
    oauth: createOAuthService({ auth, sessions }),
    users: createUsersService({ clock, hasher, users: repos.users }),
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
      if (ownsDatabase) await database.close()
    },
  }
}

export type Deps = Awaited<ReturnType<typeof createDeps>>
