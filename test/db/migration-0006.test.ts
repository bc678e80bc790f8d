import { type Kysely, type Migration, Migrator } from 'kysely'
import { describe, expect, it, onTestFinished } from 'vitest'
import { migrations } from '../../src/db/migrations/index.js'
import { createTestDatabase } from '../helpers/db.js'

const migrator = (db: Kysely<any>) =>
  new Migrator({
    db,
    provider: { getMigrations: async (): Promise<Record<string, Migration>> => migrations },
  })

describe('migration 0006', () => {
  it('keeps the reset tokens already issued, and goes down and up again', async () => {
    const database = await createTestDatabase()
    onTestFinished(() => database.close())
    const db = database.db as Kysely<any>
    expect((await migrator(db).migrateTo('0005_password_reset_tokens')).error).toBeUndefined()
    const now = new Date().toISOString()
    const id = '00000000-0000-4000-8000-000000000001'
    await db
      .insertInto('users')
      .values({
        id,
        email: 'a@example.com',
        email_normalized: 'a@example.com',
        username: null,
        username_normalized: null,
        hashed_password: 'x',
        is_active: 1,
        is_superuser: 0,
        created_at: now,
        updated_at: now,
      })
      .execute()
    const token = { user_id: id, token_hash: 'h'.repeat(64), created_at: now, expires_at: now }
    await db.insertInto('password_reset_tokens').values(token).execute()

    expect((await migrator(db).migrateToLatest()).error).toBeUndefined()
    const rows = await db
      .selectFrom('password_reset_tokens')
      .select(['user_id', 'token_hash'])
      .execute()
    expect(rows).toEqual([{ user_id: id, token_hash: token.token_hash }])
    // Several live tokens per user are allowed now.
    await db
      .insertInto('password_reset_tokens')
      .values({ ...token, token_hash: 'i'.repeat(64) })
      .execute()

    expect((await migrator(db).migrateTo('0005_password_reset_tokens')).error).toBeUndefined()
    expect(await db.selectFrom('password_reset_tokens').select('user_id').execute()).toHaveLength(1)
    expect((await migrator(db).migrateToLatest()).error).toBeUndefined()
  })
})
