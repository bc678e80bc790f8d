import { describe, expect, it, onTestFinished } from 'vitest'
import { buildApp } from '../../src/app.js'
import type { Config } from '../../src/config.js'
import { ADMIN } from '../helpers/accounts.js'
import { createTestClock } from '../helpers/clock.js'
import { testConfig } from '../helpers/config.js'
import { createTestDatabase } from '../helpers/db.js'
import { createUser, loginAs } from '../helpers/factories.js'
import { must } from '../helpers/must.js'

const first: Partial<Config> = {
  firstSuperuserEmail: ADMIN.email,
  firstSuperuserPassword: ADMIN.password,
}

/** A database the test owns, and a way to start apps on it that are closed before it. */
async function sharedDatabase() {
  const database = await createTestDatabase()
  const apps: Awaited<ReturnType<typeof buildApp>>[] = []
  onTestFinished(async () => {
    for (const app of apps) await app.close()
    await database.close()
  })
  const start = async (overrides: Partial<Config>, lines: string[] = []) => {
    const app = await buildApp(testConfig({ ...overrides, logLevel: 'info' }), {
      database,
      clock: createTestClock(),
      logStream: { write: (l) => lines.push(l) },
    })
    apps.push(app)
    return app
  }
  return { database, start }
}

async function superusers(app: Awaited<ReturnType<typeof buildApp>>) {
  const { headers } = await loginAs(app, ADMIN)
  const res = await app.inject({ method: 'GET', url: '/api/v1/users?limit=100', headers })
  return (res.json().items as { email: string; is_superuser: boolean }[]).filter(
    (u) => u.is_superuser,
  )
}

describe('FIRST_SUPERUSER_EMAIL / FIRST_SUPERUSER_PASSWORD', () => {
  it('creates the superuser at start, once, however many starts follow', async () => {
    const { start } = await sharedDatabase()
    const lines: string[] = []
    const a = await start(first, lines)
    expect(lines.some((l) => l.includes('first superuser created'))).toBe(true)
    expect(lines.join('\n')).not.toContain(ADMIN.password)
    const b = await start({ ...first, firstSuperuserPassword: 'Another-Pass-9f8e' })
    expect(await superusers(b)).toEqual([expect.objectContaining({ email: ADMIN.email })])
    // The password of the first start stays: a restart changes nothing.
    await loginAs(a, ADMIN)
  })

  it('is safe when several instances start at once on one database', async () => {
    const { start } = await sharedDatabase()
    const apps = await Promise.all([start(first), start(first), start(first)])
    expect(await superusers(must(apps[0]))).toHaveLength(1)
  })

  it('leaves an existing account with that email alone and warns', async () => {
    const { start } = await sharedDatabase()
    const plain = await start({})
    const squatter = await createUser(plain, { email: ADMIN.email })
    const lines: string[] = []
    const app = await start(first, lines)
    const warning = lines.map((l) => JSON.parse(l)).find((l) => l.level === 40)
    expect(warning?.msg).toMatch(/^FIRST_SUPERUSER_EMAIL: .* not a superuser/)
    const { headers } = await loginAs(app, squatter)
    const me = await app.inject({ method: 'GET', url: '/api/v1/users/me', headers })
    expect(me.json().is_superuser).toBe(false)
    const withConfigured = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: ADMIN,
    })
    expect(withConfigured.statusCode).toBe(401)
  })

  it('warns when the configured password fails the policy, and uses it anyway', async () => {
    const { start } = await sharedDatabase()
    const lines: string[] = []
    const app = await start({ ...first, firstSuperuserPassword: 'password1' }, lines)
    expect(
      lines.some((l) => l.includes('FIRST_SUPERUSER_PASSWORD: fails the password policy')),
    ).toBe(true)
    await loginAs(app, { email: ADMIN.email, password: 'password1' })
  })
})
