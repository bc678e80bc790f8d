import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { createDatabase, type Database } from '../../src/db/database.js'

export const TEST_POSTGRES_URL =
  process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

/** Which dialect this run tests: KEYGATE_TEST_DB=postgres, else SQLite. */
export const testDialect = process.env.KEYGATE_TEST_DB === 'postgres' ? 'postgres' : 'sqlite'

/**
 * A fresh database for one test: SQLite in memory, or a new PostgreSQL schema
 * (kg_test_<random>) that is dropped when the database is closed.
 */
export async function createTestDatabase(
  options: {
    /** reach PostgreSQL through this URL (e.g. a proxy) instead of TEST_POSTGRES_URL */
    url?: string
    applicationName?: string
    timeoutMs?: number
  } = {},
): Promise<Database> {
  if (testDialect === 'sqlite') return createDatabase('sqlite::memory:')
  const schema = `kg_test_${randomBytes(6).toString('hex')}`
  const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL })
  await admin.connect()
  try {
    await admin.query(`create schema ${schema}`)
  } finally {
    await admin.end()
  }
  const database = createDatabase(options.url ?? TEST_POSTGRES_URL, {
    searchPath: schema,
    poolSize: 5,
    applicationName: options.applicationName,
    timeoutMs: options.timeoutMs,
  })
  return {
    ...database,
    async close() {
      await database.close()
      const client = new pg.Client({ connectionString: TEST_POSTGRES_URL })
      await client.connect()
      try {
        await client.query(`drop schema if exists ${schema} cascade`)
      } finally {
        await client.end()
      }
    },
  }
}
