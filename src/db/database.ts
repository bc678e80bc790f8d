import { closeSync, mkdirSync, openSync } from 'node:fs'
import { createRequire } from 'node:module'
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
import type { DB } from './schema.js'

export type Dialect = 'sqlite' | 'postgres'

export interface Database {
  db: Kysely<DB>
  dialect: Dialect
  /** a trivial round trip, for /readyz */
  ping(): Promise<void>
  close(): Promise<void>
  /** the node-postgres pool's counters, for metrics (PostgreSQL only) */
  pool?: { totalCount: number; idleCount: number; waitingCount: number; options: { max?: number } }
  /**
   * PostgreSQL only: LISTEN on `channel` over a connection of its own (taken
   * from the pool). `onEnd` is called once if that connection is lost; the
   * returned function stops listening.
   */
  listen?(
    channel: string,
    onMessage: (payload: string) => void,
    onEnd: () => void,
  ): Promise<() => Promise<void>>
  /** PostgreSQL only: NOTIFY `channel` (after the caller's commit, on any connection). */
  notify?(channel: string, payload: string): Promise<void>
}

export interface DatabaseOptions {
  poolSize?: number
  /** PostgreSQL schema to use (tests isolate themselves in one) */
  searchPath?: string
  /** bound on connecting and on each statement, so an outage answers instead of hanging */
  timeoutMs?: number
  /** PostgreSQL application_name (a `?application_name=` in the URL wins) */
  applicationName?: string
}

/** Opens the database named by DATABASE_URL: `sqlite:PATH`, `sqlite::memory:` or `postgres://…`. */
export function createDatabase(url: string, options: DatabaseOptions = {}): Database {
  const postgres = url.startsWith('sqlite:') ? undefined : openPostgres(url, options)
  const db = postgres?.db ?? openSqlite(url.slice('sqlite:'.length), options.timeoutMs ?? 5000)
  const dialect: Dialect = url.startsWith('sqlite:') ? 'sqlite' : 'postgres'
  return {
    db,
    dialect,
    pool: postgres?.pool,
    ...(postgres && {
      listen: (channel, onMessage, onEnd) => listenOn(postgres.pool, channel, onMessage, onEnd),
      notify: async (channel, payload) => {
        await sql`select pg_notify(${channel}, ${payload})`.execute(db)
      },
    }),
    ping: async () => {
      await sql`select 1`.execute(db).catch((err: Error) => {
        // Names where it looked (without credentials), for the log of a failed /readyz.
        throw dialect === 'postgres'
          ? new Error(`${where(url)}: ${err.message}`, { cause: err })
          : err
      })
    },
    close: () => db.destroy(),
  }
}

/**
 * The database holds password hashes: its directory is made 0700 and the file
 * 0600 before SQLite opens it (SQLite would create it 0644). SQLite gives the
 * -wal and -shm files the mode of the database file, so they are 0600 too.
 * Existing files and directories keep the mode their owner gave them.
 */
function createPrivately(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
  try {
    closeSync(openSync(path, 'wx', 0o600))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  }
}

/** `PostgreSQL at host:port` of a URL, never its user or password. */
function where(url: string): string {
  try {
    const { hostname, port } = new URL(url)
    return `PostgreSQL at ${hostname || 'localhost'}:${port || 5432}`
  } catch {
    return 'PostgreSQL'
  }
}

function openSqlite(path: string, busyTimeoutMs: number): Kysely<DB> {
  if (path !== ':memory:' && path !== '') createPrivately(path)
  const sqlite = new SQLite(path)
  sqlite.pragma('journal_mode = WAL')
  sqlite.pragma('synchronous = NORMAL')
  sqlite.pragma('foreign_keys = ON')
  // Several processes (WEB_CONCURRENCY) share the file: a writer waits this long
  // for the lock, then fails with SQLITE_BUSY, which is answered 503.
  sqlite.pragma(`busy_timeout = ${Math.trunc(busyTimeoutMs)}`)
  return new Kysely<DB>({ dialect: new SqliteDialect({ database: cachingStatements(sqlite) }) })
}

const STATEMENT_CACHE_SIZE = 256

/**
 * Kysely asks better-sqlite3 to prepare every statement anew, a measurable cost
 * of every authenticated read (docs/decisions/guard-read-path.md). Prepared statements are reusable, and
 * Kysely's SQLite driver runs one query at a time, so the same SQL text can
 * share one. Bounded, oldest out first, since some SQL is built per request.
 */
export function cachingStatements(sqlite: SQLite.Database) {
  const cache = new Map<string, SQLite.Statement>()
  return {
    close: () => sqlite.close(),
    prepare(text: string) {
      let stmt = cache.get(text)
      if (!stmt) {
        stmt = sqlite.prepare(text)
        const oldest = cache.keys().next()
        if (cache.size >= STATEMENT_CACHE_SIZE && !oldest.done) cache.delete(oldest.value)
        cache.set(text, stmt)
      }
      return stmt
    },
  }
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

const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/

/** See Database.listen. The channel is a fixed identifier of Keygate's, checked anyway. */
async function listenOn(
  pool: import('pg').Pool,
  channel: string,
  onMessage: (payload: string) => void,
  onEnd: () => void,
): Promise<() => Promise<void>> {
  if (!CHANNEL.test(channel)) throw new Error(`invalid channel name ${channel}`)
  // A connection of its own, outside the pool: it takes no query's place, and
  // closing the pool never waits for a listener that is still open.
  const pg = createRequire(import.meta.url)('pg') as typeof import('pg')
  const client = new pg.Client(pool.options)
  let ended = false
  const end = () => {
    if (ended) return
    ended = true
    client.end().catch(() => {})
    onEnd()
  }
  client.on('notification', (m) => {
    if (m.channel === channel && m.payload !== undefined) onMessage(m.payload)
  })
  client.on('error', () => end())
  client.on('end', () => end())
  try {
    await client.connect()
    await client.query(`listen ${channel}`)
  } catch (err) {
    ended = true
    await client.end().catch(() => {})
    throw err
  }
  return async () => {
    if (ended) return
    ended = true
    await client.end().catch(() => {})
  }
}

// Loaded only when the configuration uses it: idle memory stays low (docs/decisions/node-flags-and-bundle.md).
function openPostgres(url: string, options: DatabaseOptions) {
  const timeout = options.timeoutMs ?? 5000
  const pg = createRequire(import.meta.url)('pg') as typeof import('pg')
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: timeout,
    query_timeout: timeout * 2,
    options: options.searchPath ? `-c search_path=${options.searchPath}` : undefined,
    application_name: options.applicationName ?? 'keygate',
  })
  // A connection the server terminates (restart, failover, pg_terminate_backend)
  // emits 'error' on its client. The pool listens only while a client is idle; a
  // client checked out for a query has no listener, so the emit would crash the
  // process. The query itself still fails (answered 503), and the broken client
  // is dropped on release; the pool opens a fresh one for the next query.
  pool.on('error', () => {})
  pool.on('connect', (client) => client.on('error', () => {}))
  return { db: new Kysely<DB>({ dialect: new OwnSchemaPostgresDialect({ pool }) }), pool }
}
