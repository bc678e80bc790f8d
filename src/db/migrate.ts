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
 * runs, so N instances starting together apply each migration once.
 */
export async function migrateToLatest(db: Kysely<any>): Promise<MigrationResult[]> {
  const schema =
    db.getExecutor().adapter instanceof PostgresAdapter
      ? (await sql<{ s: string }>`select current_schema() as s`.execute(db)).rows[0]?.s
      : undefined
  const migrator = new Migrator({
    db: schema ? scopedToSchema(db, schema) : db,
    provider: { getMigrations: async () => migrations },
    ...(schema && { migrationTableSchema: schema }),
  })
  const { error, results } = await migrator.migrateToLatest()
  if (error) throw error
  return results ?? []
}
