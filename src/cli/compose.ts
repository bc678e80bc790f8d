import type { Config } from '../config.js'
import { hostPort } from '../config-report.js'
import { createDatabase } from '../db/database.js'
import { migrateToLatest, pendingMigrations } from '../db/migrate.js'
import { DatabaseUnavailableError, isDatabaseUnavailable } from '../db/unavailable.js'
import { createDeps, type Deps } from '../deps.js'
import { withDevSecret } from '../services/keys/signing-keys.js'

/**
 * The one way a command composes the process: the configuration as the server
 * reads it (with the development secret file, so a CLI-made user and a served
 * one share keys), then createDeps exactly as buildApp calls it. Two
 * connections are enough for a one-shot command.
 */
export async function withDeps<T>(config: Config, work: (deps: Deps) => Promise<T>): Promise<T> {
  const deps = await createDeps({ ...withDevSecret(config), dbPoolSize: 2 })
  try {
    return await work(deps)
  } finally {
    await deps.close()
  }
}

/**
 * Applies pending migrations and closes: `keygate migrate` and a cluster
 * primary before it forks. Resolves to the names of the migrations applied.
 */
export async function migrateDatabase(config: Config): Promise<string[]> {
  const database = createDatabase(config.databaseUrl, { poolSize: 1 })
  try {
    return (await migrateToLatest(database.db)).map((r) => r.migrationName)
  } finally {
    await database.close()
  }
}

/**
 * With MIGRATE_ON_START=off, the migrations the database still lacks: a server
 * started on an unmigrated database would otherwise fail request by request.
 */
export async function unappliedMigrations(config: Config): Promise<string[]> {
  if (config.migrateOnStart) return []
  const database = createDatabase(config.databaseUrl, { poolSize: 1 })
  try {
    return await pendingMigrations(database.db)
  } finally {
    await database.close()
  }
}

// SQLite says `no such table: users`; PostgreSQL answers SQLSTATE 42P01 undefined_table.
function isMissingTable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown }
  return e?.code === '42P01' || (typeof e?.message === 'string' && /^no such table/.test(e.message))
}

/**
 * The one line a command prints for a failure of the database, or undefined
 * when `err` is something else: what to do about it, and where it looked.
 */
export function explainDatabaseError(config: Config, err: unknown): string | undefined {
  if (isMissingTable(err)) {
    return 'the database has no tables yet (MIGRATE_ON_START=off): run `keygate migrate` first'
  }
  if (err instanceof DatabaseUnavailableError || isDatabaseUnavailable(err)) {
    const where = config.databaseUrl.startsWith('sqlite:')
      ? config.databaseUrl
      : `PostgreSQL at ${hostPort(config.databaseUrl, 5432)}`
    const message = (err as Error).message
    // Node's own message often names the address already (connect ECONNREFUSED host:port).
    return /\d+\.\d+\.\d+\.\d+:\d+|\[[0-9a-f:]+\]:\d+/i.test(message)
      ? message
      : `${message} (${where})`
  }
  return undefined
}
