import { randomUUID } from 'node:crypto'
import SQLite from 'better-sqlite3'
import { sql } from 'kysely'
import { describe, expect, it, onTestFinished } from 'vitest'
import { cachingStatements } from '../../src/db/database.js'
import { migrateToLatest } from '../../src/db/migrate.js'
import { createUsersRepo } from '../../src/repos/accounts/users.js'
import { createSessionsRepo } from '../../src/repos/sessions/sessions.js'
import { prepareQuery } from '../../src/repos/support/prepared.js'
import { createTestDatabase } from '../helpers/db.js'

const NOW = new Date('2025-01-01T00:00:00.000Z')
const DAY = 86_400_000

async function setup() {
  const database = await createTestDatabase()
  onTestFinished(() => database.close())
  await migrateToLatest(database.db)
  const users = createUsersRepo(database.db)
  const sessions = createSessionsRepo(database.db)
  async function userWithSession(maxDays = 90) {
    const id = randomUUID()
    await users.insert({
      id,
      email: `${id}@example.com`,
      username: null,
      hashed_password: 'x',
      is_active: true,
      is_superuser: false,
      created_at: NOW,
    })
    const sid = randomUUID()
    await sessions.insert({
      id: sid,
      user_id: id,
      client_id: 'keygate',
      created_at: NOW,
      last_used_at: NOW,
      expires_at: new Date(NOW.getTime() + 30 * DAY),
      max_expires_at: new Date(NOW.getTime() + maxDays * DAY),
      user_agent: null,
      ip: null,
      scope: 'openid',
    })
    return { id, sid }
  }
  return { database, sessions, userWithSession }
}

describe('findLiveWithUser (compiled once, parameters swapped per call)', () => {
  it('answers each call with its own arguments', async () => {
    const { sessions, userWithSession } = await setup()
    const a = await userWithSession()
    const b = await userWithSession()
    for (const u of [a, b, a, b]) {
      expect((await sessions.findLiveWithUser(u.sid, u.id, NOW))?.id).toBe(u.id)
    }
    expect(await sessions.findLiveWithUser(a.sid, b.id, NOW)).toBeUndefined()
    expect(await sessions.findLiveWithUser(b.sid, a.id, NOW)).toBeUndefined()
  })

  it('still refuses revoked sessions and sessions past their absolute limit', async () => {
    const { sessions, userWithSession } = await setup()
    const short = await userWithSession(1)
    expect(await sessions.findLiveWithUser(short.sid, short.id, NOW)).toBeDefined()
    const later = new Date(NOW.getTime() + DAY)
    expect(await sessions.findLiveWithUser(short.sid, short.id, later)).toBeUndefined()
    const revoked = await userWithSession()
    await sessions.revoke(revoked.sid, NOW)
    expect(await sessions.findLiveWithUser(revoked.sid, revoked.id, NOW)).toBeUndefined()
  })

  it('refuses to prepare a query whose argument is not a bound parameter', async () => {
    const { database } = await setup()
    expect(() =>
      prepareQuery(database.db, ['id'] as const, (p) =>
        database.db
          .selectFrom('users')
          .selectAll()
          .where(sql.raw(`'${p.id}'`), '=', 'x'),
      ),
    ).toThrow('id not bound')
  })
})

describe('SQLite statement cache', () => {
  it('reuses a statement per SQL text and evicts the oldest past its bound', () => {
    const raw = new SQLite(':memory:')
    const cached = cachingStatements(raw)
    onTestFinished(() => {
      cached.close()
    })
    const first = cached.prepare('select 1 as n')
    expect(cached.prepare('select 1 as n')).toBe(first)
    expect(cached.prepare('select 2 as n')).not.toBe(first)
    for (let i = 0; i < 300; i++) cached.prepare(`select ${i + 10} as n`)
    expect(cached.prepare('select 1 as n')).not.toBe(first)
    expect(cached.prepare('select 1 as n').get()).toEqual({ n: 1 })
  })
})
