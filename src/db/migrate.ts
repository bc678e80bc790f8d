import { type Kysely, type MigrationResult, Migrator, PostgresAdapter, sql } from 'kysely'
import { migrations } from './migrations/index.js'

/**
 * Applies every pending migration. Kysely holds a database-level lock while it
 * runs, so N instances starting together apply each migration once.
 */
export async function migrateToLatest(db: Kysely<any>): Promise<MigrationResult[]> {
  // Kysely looks for its bookkeeping tables in every schema it can see; on a
  // PostgreSQL database shared with other schemas (another app, parallel test
  // schemas) it would find theirs and skip creating ours. Pin it to ours.
  const migrationTableSchema =
    db.getExecutor().adapter instanceof PostgresAdapter
      ? (await sql<{ s: string }>`select current_schema() as s`.execute(db)).rows[0]?.s
      : undefined
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    ...(migrationTableSchema && { migrationTableSchema }),
  })
  const { error, results } = await migrator.migrateToLatest()
  if (error) throw error
  return results ?? []
}
