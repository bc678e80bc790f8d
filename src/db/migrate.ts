import { type Kysely, type MigrationResult, Migrator, PostgresAdapter, sql } from 'kysely'
import { migrations } from './migrations/index.js'
import {
  DatabaseUnavailableError,
  describeDatabaseError,
  isDatabaseUnavailable,
} from './unavailable.js'

/** logged once per migration run (tests count it to prove a cluster migrates once) */
export const MIGRATIONS_LOG_MESSAGE = 'migrations checked'

/**
 * Applies every pending migration. Kysely holds a database-level lock while it
 * runs, so N instances starting together apply each migration once. An
 * unreachable database fails with one line that says so (start-up stops there).
 */
export async function migrateToLatest(db: Kysely<any>): Promise<MigrationResult[]> {
  let outcome: Awaited<ReturnType<Migrator['migrateToLatest']>>
  try {
    const schema = await currentSchema(db)
    const migrator = new Migrator({
      db,
      provider: { getMigrations: async () => migrations },
      migrationTableSchema: schema,
    })
    outcome = await migrator.migrateToLatest()
  } catch (err) {
    throw asUnavailable(err)
  }
  if (outcome.error) throw asUnavailable(outcome.error)
  return outcome.results ?? []
}

/** Names of the migrations not yet applied (for a start-up with MIGRATE_ON_START=off). */
export async function pendingMigrations(db: Kysely<any>): Promise<string[]> {
  try {
    const migrator = new Migrator({
      db,
      provider: { getMigrations: async () => migrations },
      migrationTableSchema: await currentSchema(db),
    })
    return (await migrator.getMigrations()).filter((m) => !m.executedAt).map((m) => m.name)
  } catch (err) {
    throw asUnavailable(err)
  }
}

// Without an explicit schema Kysely looks for its bookkeeping tables in every
// schema of the database, so a kysely_migration table of another schema (another
// app, or a parallel test) would be taken for ours. Pin it to the search_path's.
async function currentSchema(db: Kysely<any>): Promise<string | undefined> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return undefined
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db)
  return rows[0]?.schema
}

function asUnavailable(err: unknown): unknown {
  if (!isDatabaseUnavailable(err)) return err
  return new DatabaseUnavailableError(
    `database unreachable, cannot run migrations: ${describeDatabaseError(err)}`,
    { cause: err },
  )
}
