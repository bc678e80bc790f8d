import { describe, expect, it, onTestFinished } from 'vitest'
import { migrateToLatest } from '../../src/db/migrate.js'
import { createServerSecretsRepo } from '../../src/repos/support/server-secrets.js'
import { loadServerSecret } from '../../src/services/crypto/server-secret.js'
import { createHmacKeys } from '../../src/services/keys/signing-keys.js'
import { buildTestApp } from '../helpers/app.js'
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

describe('start-up', () => {
  it('warns in production when the server secret lives in the database', async () => {
    const lines: string[] = []
    const logStream = { write: (line: string) => void lines.push(line) }
    const keys = createHmacKeys(TEST_SECRET)
    await buildTestApp(
      { production: true, secretKey: undefined, logLevel: 'warn' },
      { keys, logStream },
    )
    expect(lines.some((l) => l.includes('SECRET_KEY: unset'))).toBe(true)

    const quiet: string[] = []
    await buildTestApp(
      { production: true, logLevel: 'warn' },
      { logStream: { write: (line: string) => void quiet.push(line) } },
    )
    expect(quiet.some((l) => l.includes('SECRET_KEY'))).toBe(false)
  })
})
