import { type Kysely, type MigrationResult, Migrator } from 'kysely'
import { migrations } from './migrations/index.js'
import {
  DatabaseUnavailableError,
  describeDatabaseError,
  isDatabaseUnavailable,
} from './unavailable.js'

/**
 * Applies every pending migration. Kysely holds a database-level lock while it
 * runs, so N instances starting together apply each migration once. An
 * unreachable database fails with one line that says so (start-up stops there).
 */
export async function migrateToLatest(db: Kysely<any>): Promise<MigrationResult[]> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } })
  let outcome: Awaited<ReturnType<Migrator['migrateToLatest']>>
  try {
    outcome = await migrator.migrateToLatest()
  } catch (err) {
    throw asUnavailable(err)
  }
  if (outcome.error) throw asUnavailable(outcome.error)
  return outcome.results ?? []
}

function asUnavailable(err: unknown): unknown {
  if (!isDatabaseUnavailable(err)) return err
  return new DatabaseUnavailableError(
    `database unreachable, cannot run migrations: ${describeDatabaseError(err)}`,
    { cause: err },
  )
}
