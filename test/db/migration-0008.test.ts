import { type Kysely, type Migration, Migrator } from 'kysely'
import { describe, expect, it, onTestFinished } from 'vitest'
import { migrations } from '../../src/db/migrations/index.js'
import { createTestDatabase } from '../helpers/db.js'

const migrator = (db: Kysely<any>) =>
  new Migrator({
    db,
    provider: { getMigrations: async (): Promise<Record<string, Migration>> => migrations },
  })

describe('migration 0008', () => {
  it('leaves existing sessions with a NULL scope (all the user may hold), down and up again', async () => {
    const database = await createTestDatabase()
    onTestFinished(() => database.close())
    const db = database.db as Kysely<any>
    expect((await migrator(db).migrateTo('0006_session_hardening')).error).toBeUndefined()
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
    const session = {
      id: '00000000-0000-4000-8000-000000000002',
      user_id: id,
      client_id: 'keygate',
      created_at: now,
      last_used_at: now,
      expires_at: now,
      max_expires_at: now,
    }
    await db.insertInto('sessions').values(session).execute()

    expect((await migrator(db).migrateTo('0008_session_scope')).error).toBeUndefined()
    const row = await db.selectFrom('sessions').select('scope').executeTakeFirstOrThrow()
    expect(row.scope).toBeNull()
    await db.updateTable('sessions').set({ scope: 'openid posts:write' }).execute()

    expect((await migrator(db).migrateTo('0006_session_hardening')).error).toBeUndefined()
    const down = await db.selectFrom('sessions').selectAll().executeTakeFirstOrThrow()
    expect(down).not.toHaveProperty('scope')
    expect((await migrator(db).migrateToLatest()).error).toBeUndefined()
  })
})
