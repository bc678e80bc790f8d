import { describe, expect, it, onTestFinished } from 'vitest'
import { createDeps } from '../../src/deps.js'
import type { Scope } from '../../src/domain/scopes.js'
import { buildTestApp } from '../helpers/app.js'
import { createUser, loginAs } from '../helpers/factories.js'

async function setup() {
  const t = await buildTestApp()
  const deps = await createDeps(t.config, { database: t.database, clock: t.clock })
  onTestFinished(() => deps.close())
  const user = await createUser(t.app)
  const register = async (name: string, first_party: boolean) =>
    (
      await deps.services.clients.create({
        name,
        type: 'public',
        redirect_uris: ['https://app.example.com/cb'],
        first_party,
      })
    ).client
  const ACME = await register('Acme', false)
  const OWN = await register('Own', true)
  return { ...t, deps, consents: deps.services.consents, user, ACME, OWN }
}

describe('remembered consent (SPEC §7)', () => {
  it('needed: everything at first, then only what was not granted; never for first-party', async () => {
    const { consents, user, ACME, OWN } = await setup()
    expect(await consents.needed(user, ACME, ['openid', 'email'])).toEqual(['openid', 'email'])
    expect(await consents.needed(user, OWN, ['openid', 'account'])).toEqual([])
    await consents.grant(user, ACME, ['openid'])
    expect(await consents.needed(user, ACME, ['openid', 'email'])).toEqual(['email'])
    expect(await consents.needed(user, ACME, ['openid'])).toEqual([])
  })

  it('grant adds to what was consented before, and keeps the first created_at', async () => {
    const { consents, user, clock, ACME } = await setup()
    expect(await consents.grant(user, ACME, ['openid', 'email'])).toEqual(['openid', 'email'])
    clock.advanceSeconds(60)
    expect(await consents.grant(user, ACME, ['profile', 'openid'])).toEqual(
      expect.arrayContaining(['openid', 'email', 'profile']),
    )
    const [app] = await consents.list(user)
    expect(app?.scope).toEqual(['openid', 'profile', 'email'])
    expect(app?.created_at.toISOString()).toBe('2026-01-01T00:00:00.000Z')
    expect(app?.updated_at.toISOString()).toBe('2026-01-01T00:01:00.000Z')
  })

  it('grants racing each other both count', async () => {
    const { consents, user, ACME } = await setup()
    const each: Scope[] = ['openid', 'profile', 'email', 'offline_access', 'posts:write']
    await Promise.all(each.map((s) => consents.grant(user, ACME, [s])))
    const [app] = await consents.list(user)
    expect(app?.scope).toEqual(each)
  })

  it('decide: granted when all was consented, asked for the rest, prompt=consent and prompt=none', async () => {
    const { consents, user, ACME, OWN } = await setup()
    expect(await consents.decide(user, ACME, ['openid'])).toEqual({
      kind: 'ask',
      scope: ['openid'],
      added: ['openid'],
    })
    expect(await consents.decide(user, ACME, ['openid'], ['none'])).toEqual({
      kind: 'consent_required',
    })
    await consents.grant(user, ACME, ['openid'])
    expect(await consents.decide(user, ACME, ['openid'])).toEqual({
      kind: 'granted',
      scope: ['openid'],
    })
    expect(await consents.decide(user, ACME, ['openid'], ['none'])).toEqual({
      kind: 'granted',
      scope: ['openid'],
    })
    // prompt=consent shows the page even when nothing is new.
    expect(await consents.decide(user, ACME, ['openid'], ['consent'])).toEqual({
      kind: 'ask',
      scope: ['openid'],
      added: [],
    })
    // Widened: only the new scope is "added", the page still names all of them.
    expect(await consents.decide(user, ACME, ['openid', 'email'])).toEqual({
      kind: 'ask',
      scope: ['openid', 'email'],
      added: ['email'],
    })
    // A first-party client is never asked, whatever the prompt.
    expect(await consents.decide(user, OWN, ['account'], ['consent'])).toEqual({
      kind: 'granted',
      scope: ['account'],
    })
    expect(await consents.decide(user, OWN, ['account'], ['none'])).toEqual({
      kind: 'granted',
      scope: ['account'],
    })
  })

  it('consents are per user: one user’s grant asks nothing of another', async () => {
    const { app, consents, user, ACME } = await setup()
    const other = await createUser(app)
    await consents.grant(user, ACME, ['openid'])
    expect(await consents.needed(other, ACME, ['openid'])).toEqual(['openid'])
    expect(await consents.list(other)).toEqual([])
  })

  it('one row per user and client in the database; deleting the user or the client deletes it', async () => {
    const { app, consents, user, database, ACME, deps } = await setup()
    await consents.grant(user, ACME, ['openid'])
    const now = new Date().toISOString()
    const row = {
      user_id: user.id,
      client_id: ACME.client_id,
      scope: 'email',
      created_at: now,
      updated_at: now,
    }
    await expect(database.db.insertInto('consents').values(row).execute()).rejects.toThrow()

    const { headers } = await loginAs(app, user)
    const del = await app.inject({
      method: 'DELETE',
      url: '/api/v1/users/me',
      headers,
      payload: { password: user.password },
    })
    expect(del.statusCode).toBe(204)
    expect(await database.db.selectFrom('consents').selectAll().execute()).toEqual([])

    const other = await createUser(app)
    await consents.grant(other, ACME, ['openid'])
    await deps.services.clients.delete(ACME.client_id)
    expect(await database.db.selectFrom('consents').selectAll().execute()).toEqual([])
  })
})
