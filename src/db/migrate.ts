import {
  type DatabaseIntrospector,
  type Kysely,
  type MigrationResult,
  Migrator,
  PostgresAdapter,
  sql,
  type TableMetadata,
} from 'kysely'
import { migrations } from './migrations/index.js'
import {
  DatabaseUnavailableError,
  describeDatabaseError,
  isDatabaseUnavailable,
} from './unavailable.js'

/**
 * Kysely's Migrator looks for its bookkeeping tables by introspecting every
 * schema it can see. On a PostgreSQL database shared with other schemas
 * (another app, parallel test schemas) it would find theirs and skip creating
 * its own, or fail when one is dropped mid-introspection. This view of `db`
 * introspects only `schema`.
 */
function scopedToSchema(db: Kysely<any>, schema: string): Kysely<any> {
  const getTables = async (): Promise<TableMetadata[]> => {
    const { rows } = await sql<{ name: string }>`
      select table_name as name from information_schema.tables where table_schema = ${schema}
    `.execute(db)
    return rows.map((r) => ({ name: r.name, schema, isView: false, columns: [] }))
  }
  const introspection: DatabaseIntrospector = {
    getSchemas: async () => [{ name: schema }],
    getTables,
    getMetadata: async () => ({ tables: await getTables() }),
  }
  return new Proxy(db, {
    get(target, prop) {
      if (prop === 'introspection') return introspection
      const value = Reflect.get(target, prop, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

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
      db: schema ? scopedToSchema(db, schema) : db,
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
