import { sql } from 'kysely'
import { describe, expect, it, onTestFinished } from 'vitest'
import { migrateToLatest, pendingMigrations } from '../../src/db/migrate.js'
import { migrations } from '../../src/db/migrations/index.js'
import { createTestDatabase, testDialect } from '../helpers/db.js'

describe('migrateToLatest', () => {
  it('migrates a fresh database, then has nothing left to do', async () => {
    const database = await createTestDatabase()
    onTestFinished(() => database.close())
    const first = await migrateToLatest(database.db)
    expect(first.map((r) => r.status)).toEqual(Object.keys(migrations).map(() => 'Success'))
    expect(await migrateToLatest(database.db)).toEqual([])
  })

  it('pendingMigrations lists what a fresh database lacks, and nothing once migrated', async () => {
    const database = await createTestDatabase()
    onTestFinished(() => database.close())
    expect(await pendingMigrations(database.db)).toEqual(Object.keys(migrations))
    await migrateToLatest(database.db)
    expect(await pendingMigrations(database.db)).toEqual([])
  })

  // Kysely alone would see the first schema's bookkeeping tables and never create the second's.
  it.runIf(testDialect === 'postgres')(
    'keeps to its own schema when another schema holds Kysely tables',
    async () => {
      const a = await createTestDatabase()
      const b = await createTestDatabase()
      onTestFinished(async () => {
        await a.close()
        await b.close()
      })
      await migrateToLatest(a.db)
      const results = await migrateToLatest(b.db)
      expect(results).toHaveLength(Object.keys(migrations).length)
      await b.db.selectFrom('users').selectAll().execute()
      await sql`select name from kysely_migration`.execute(b.db)
    },
  )
})
