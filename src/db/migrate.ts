import { type Kysely, type MigrationResult, Migrator, PostgresAdapter, sql } from 'kysely'
import { migrations } from './migrations/index.js'

/**
 * Applies every pending migration. Kysely holds a database-level lock while it
 * runs, so N instances starting together apply each migration once.
 */
export async function migrateToLatest(db: Kysely<any>): Promise<MigrationResult[]> {
  // Kysely looks for its bookkeeping tables in every schema unless told which:
  // another schema's kysely_migration (another app, a parallel test) would be
  // taken for ours. Pin them to the schema search_path selects.
  let migrationTableSchema: string | undefined
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    const { rows } = await sql<{ s: string }>`select current_schema() as s`.execute(db)
    migrationTableSchema = rows[0]?.s
  }
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableSchema,
  })
  const { error, results } = await migrator.migrateToLatest()
  if (error) throw error
  return results ?? []
}
