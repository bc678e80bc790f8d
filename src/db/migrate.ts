import { type Kysely, type MigrationResult, Migrator, PostgresAdapter, sql } from 'kysely'
import { migrations } from './migrations/index.js'

/**
 * Applies every pending migration. Kysely holds a database-level lock while it
 * runs, so N instances starting together apply each migration once.
 */
export async function migrateToLatest(db: Kysely<any>): Promise<MigrationResult[]> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableSchema: await currentSchema(db),
  })
  const { error, results } = await migrator.migrateToLatest()
  if (error) throw error
  return results ?? []
}

/**
 * PostgreSQL: the schema on the search_path. Without naming it, Kysely looks for
 * its migration tables in every schema and, finding them in another one (another
 * deployment or test sharing the database), skips creating its own.
 */
async function currentSchema(db: Kysely<any>): Promise<string | undefined> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return undefined
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db)
  return rows[0]?.schema
}
