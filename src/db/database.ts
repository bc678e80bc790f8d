import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import SQLite from 'better-sqlite3'
import {
  type DatabaseIntrospector,
  Kysely,
  PostgresDialect,
  SqliteDialect,
  sql,
  type TableMetadata,
} from 'kysely'
import pg from 'pg'
import type { DB } from './schema.js'

export type Dialect = 'sqlite' | 'postgres'

export interface Database {
  db: Kysely<DB>
  dialect: Dialect
  /** a trivial round trip, for /readyz */
  ping(): Promise<void>
  close(): Promise<void>
}

export interface DatabaseOptions {
  poolSize?: number
  /** PostgreSQL schema to use (tests isolate themselves in one) */
  searchPath?: string
  /** bound on connecting and on each statement, so an outage answers instead of hanging */
  timeoutMs?: number
}

/** Opens the database named by DATABASE_URL: `sqlite:PATH`, `sqlite::memory:` or `postgres://…`. */
export function createDatabase(url: string, options: DatabaseOptions = {}): Database {
  const db = url.startsWith('sqlite:')
    ? openSqlite(url.slice('sqlite:'.length))
    : openPostgres(url, options)
  const dialect: Dialect = url.startsWith('sqlite:') ? 'sqlite' : 'postgres'
  return {
    db,
    dialect,
    ping: async () => {
      await sql`select 1`.execute(db)
    },
    close: () => db.destroy(),
  }
}

function openSqlite(path: string): Kysely<DB> {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const sqlite = new SQLite(path)
  sqlite.pragma('journal_mode = WAL')
  sqlite.pragma('synchronous = NORMAL')
  sqlite.pragma('foreign_keys = ON')
  sqlite.pragma('busy_timeout = 5000')
  return new Kysely<DB>({ dialect: new SqliteDialect({ database: sqlite }) })
}

/**
 * Kysely's PostgreSQL introspector reads every schema of the database, and
 * fails when another schema is dropped meanwhile (parallel test runs, other
 * apps). Keygate introspects only for migrations, and only its own schema.
 */
class OwnSchemaPostgresDialect extends PostgresDialect {
  override createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    const getTables = async (): Promise<TableMetadata[]> => {
      const { rows } = await sql<{ name: string; schema: string; type: string }>`
        select table_name as name, table_schema as schema, table_type as type
        from information_schema.tables where table_schema = current_schema()`.execute(db)
      return rows.map((r) => ({ ...r, isView: r.type === 'VIEW', columns: [] }))
    }
    return {
      getSchemas: () => super.createIntrospector(db).getSchemas(),
      getTables,
      getMetadata: async () => ({ tables: await getTables() }),
    }
  }
}

function openPostgres(url: string, options: DatabaseOptions): Kysely<DB> {
  const timeout = options.timeoutMs ?? 5000
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: timeout,
    query_timeout: timeout * 2,
    options: options.searchPath ? `-c search_path=${options.searchPath}` : undefined,
  })
  // A connection the server terminates emits 'error' on the idle client; without a
  // listener that would crash the process. The pool replaces it on the next query.
  pool.on('error', () => {})
  return new Kysely<DB>({ dialect: new OwnSchemaPostgresDialect({ pool }) })
}
