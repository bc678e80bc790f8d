import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { TEST_POSTGRES_URL } from './db.js'

export interface ServerDatabase {
  /** a DATABASE_URL for server processes */
  url: string
  drop(): Promise<void>
}

/**
 * A database of its own for server processes (which only take a DATABASE_URL,
 * no schema): a temp SQLite file, or a new PostgreSQL database kg_multi_<random>.
 */
export async function createServerDatabase(
  dialect: 'sqlite' | 'postgres',
): Promise<ServerDatabase> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'keygate-'))
    return {
      url: `sqlite:${join(dir, 'keygate.db')}`,
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    }
  }
  const name = `kg_multi_${randomBytes(6).toString('hex')}`
  await adminQuery(`create database ${name}`)
  const url = new URL(TEST_POSTGRES_URL)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    // WITH (FORCE) (PostgreSQL 13+) ends sessions a killed server may have left.
    drop: () => adminQuery(`drop database if exists ${name} with (force)`),
  }
}

async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL })
  await client.connect()
  try {
    await client.query(text)
  } finally {
    await client.end()
  }
}
