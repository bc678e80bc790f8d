import { randomUUID } from 'node:crypto'
import { describe, expect, it, onTestFinished } from 'vitest'
import { migrateToLatest } from '../../src/db/migrate.js'
import { createUsersRepo } from '../../src/repos/accounts/users.js'
import { createAuthorizationCodesRepo } from '../../src/repos/oauth/authorization-codes.js'
import { createTestDatabase } from '../helpers/db.js'

const T0 = new Date('2026-01-01T00:00:00Z')

async function setup() {
  const database = await createTestDatabase()
  onTestFinished(() => database.close())
  await migrateToLatest(database.db)
  const user = await createUsersRepo(database.db).insert({
    id: randomUUID(),
    email: 'a@example.com',
    username: null,
    hashed_password: 'x',
    is_active: true,
    is_superuser: false,
    created_at: T0,
  })
  const codes = createAuthorizationCodesRepo(database.db)
  const code = {
    code_hash: 'a'.repeat(64),
    client_id: 'app',
    redirect_uri: 'https://app.example.com/cb',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    scopes: ['openid', 'email'],
    nonce: 'n',
    user_id: user.id,
    browser_session_id: randomUUID(),
    auth_time: T0,
    amr: ['pwd'],
    created_at: T0,
    expires_at: new Date(T0.getTime() + 60_000),
  }
  await codes.insert(code)
  return { codes, code }
}

describe('authorization codes repository', () => {
  it('stores a code with its bindings and reads it back by hash', async () => {
    const { codes, code } = await setup()
    expect(await codes.findByHash(code.code_hash)).toEqual({
      ...code,
      used_at: null,
      issued_session_id: null,
    })
    expect(await codes.findByHash('b'.repeat(64))).toBeUndefined()
  })

  it('is spent by exactly one of concurrent exchanges, which records its session', async () => {
    const { codes, code } = await setup()
    const ids = Array.from({ length: 5 }, () => randomUUID())
    const won = await Promise.all(ids.map((id) => codes.consume(code.code_hash, id, T0)))
    expect(won.filter(Boolean)).toHaveLength(1)
    const row = await codes.findByHash(code.code_hash)
    expect(row?.used_at).toEqual(T0)
    expect(row?.issued_session_id).toBe(ids[won.indexOf(true)])
  })

  it('deletes codes past their expiry only', async () => {
    const { codes, code } = await setup()
    expect(await codes.deleteExpired(new Date(T0.getTime() + 59_000))).toBe(0)
    expect(await codes.deleteExpired(new Date(T0.getTime() + 60_000))).toBe(1)
    expect(await codes.findByHash(code.code_hash)).toBeUndefined()
  })
})
