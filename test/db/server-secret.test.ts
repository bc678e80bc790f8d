import { describe, expect, it, onTestFinished } from 'vitest'
import { migrateToLatest } from '../../src/db/migrate.js'
import { createServerSecretsRepo } from '../../src/repos/server-secrets.js'
import { loadServerSecret } from '../../src/services/crypto/server-secret.js'
import { createTestClock } from '../helpers/clock.js'
import { TEST_SECRET } from '../helpers/config.js'
import { createTestDatabase } from '../helpers/db.js'

describe('server secret', () => {
  it('without SECRET_KEY, instances sharing a database derive the same keys', async () => {
    const database = await createTestDatabase()
    onTestFinished(() => database.close())
    await migrateToLatest(database.db)
    const clock = createTestClock()
    const load = () => loadServerSecret(undefined, createServerSecretsRepo(database.db), clock)
    const [a, b] = await Promise.all([load(), load()])
    const c = await load()
    expect(a.source).toBe('database')
    expect(a.key('throttle-keys').equals(b.key('throttle-keys'))).toBe(true)
    expect(a.key('throttle-keys').equals(c.key('throttle-keys'))).toBe(true)
    // One key per purpose, never the same bytes.
    expect(a.key('throttle-keys').equals(a.key('known-device'))).toBe(false)
    expect(await database.db.selectFrom('server_secrets').selectAll().execute()).toHaveLength(1)
  })

  it('SECRET_KEY wins and stores nothing', async () => {
    const database = await createTestDatabase()
    onTestFinished(() => database.close())
    await migrateToLatest(database.db)
    const repo = createServerSecretsRepo(database.db)
    const s = await loadServerSecret(TEST_SECRET, repo, createTestClock())
    expect(s.source).toBe('SECRET_KEY')
    expect(s.key('x')).toHaveLength(32)
    expect(s.key('x').toString('utf8')).not.toContain(TEST_SECRET)
    expect(await database.db.selectFrom('server_secrets').selectAll().execute()).toEqual([])
  })
})
