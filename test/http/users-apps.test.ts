import { describe, expect, it, onTestFinished } from 'vitest'
import { createDeps } from '../../src/deps.js'
import { meStatus } from '../helpers/accounts.js'
import { buildTestApp } from '../helpers/app.js'
import { auditTail } from '../helpers/audit.js'
import { createUser, loginAs, type TestUser } from '../helpers/factories.js'

const URL = '/api/v1/users/me/apps'

/**
 * An app with a user's consent and a token pair of its own, made through the
 * services (the authorization endpoint's consent page does the same).
 */
async function setup() {
  const t = await buildTestApp()
  const deps = await createDeps(t.config, { database: t.database, clock: t.clock })
  onTestFinished(() => deps.close())
  const register = async (name: string) =>
    (
      await deps.services.clients.create({
        name,
        type: 'public',
        redirect_uris: ['https://app.example.com/cb'],
      })
    ).client
  const appTokens = async (user: TestUser, client: { client_id: string }) => {
    const pair = await deps.services.auth.login(user.email, user.password, {
      clientId: client.client_id,
    })
    return { pair, headers: { authorization: `Bearer ${pair.access_token}` } }
  }
  const ACME = await register('Acme Notes')
  const OTHER = await register('Other App')
  return { ...t, consents: deps.services.consents, appTokens, ACME, OTHER }
}

/** A refresh at the token endpoint as the app (a public client) makes it. */
const refreshStatus = async (
  app: Awaited<ReturnType<typeof setup>>['app'],
  clientId: string,
  token: string,
) =>
  (
    await app.inject({
      method: 'POST',
      url: '/api/v1/auth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: token,
        client_id: clientId,
      }).toString(),
    })
  ).statusCode

describe('GET /users/me/apps', () => {
  it('lists the apps I consented to, with what I allowed; nobody else’s', async () => {
    const { app, clock, consents, ACME, OTHER } = await setup()
    const user = await createUser(app)
    const other = await createUser(app)
    await consents.grant(user, ACME, ['openid', 'email'])
    await consents.grant(user, OTHER, ['openid'])
    clock.advanceSeconds(60)
    await consents.grant(user, ACME, ['offline_access'])
    await consents.grant(other, OTHER, ['profile'])

    const { headers } = await loginAs(app, user)
    const res = await app.inject({ method: 'GET', url: URL, headers })
    expect(res.statusCode).toBe(200)
    const list = res.json()
    expect(list.map((a: { name: string }) => a.name)).toEqual(['Acme Notes', 'Other App'])
    expect(list[0].client_id).toBe(ACME.client_id)
    expect(Object.keys(list[0]).sort()).toEqual(
      ['client_id', 'created_at', 'name', 'scope', 'updated_at'].sort(),
    )
    expect(list[0].scope).toBe('openid email offline_access')
    expect(list[0].created_at).toBe('2026-01-01T00:00:00.000Z')
    expect(list[1].scope).toBe('openid')

    const none = await loginAs(app, await createUser(app))
    expect((await app.inject({ method: 'GET', url: URL, headers: none.headers })).json()).toEqual(
      [],
    )
  })

  it('needs a bearer token with the account scope', async () => {
    const { app } = await setup()
    const user = await createUser(app)
    expect((await app.inject({ method: 'GET', url: URL })).statusCode).toBe(401)
    const narrow = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        username: user.email,
        password: user.password,
        scope: 'openid email',
      }).toString(),
    })
    const headers = { authorization: `Bearer ${narrow.json().access_token}` }
    for (const method of ['GET', 'DELETE'] as const) {
      const url = method === 'GET' ? URL : `${URL}/acme-app`
      const res = await app.inject({ method, url, headers })
      expect(res.statusCode).toBe(403)
      expect(res.json()).toEqual({ detail: 'Not enough permissions' })
      expect(res.headers['www-authenticate']).toContain('scope="account"')
    }
  })
})

describe('DELETE /users/me/apps/{client_id}', () => {
  it('withdraws consent and kills the app’s access and refresh tokens at once', async () => {
    const { app, consents, appTokens, ACME, OTHER, database } = await setup()
    const user = await createUser(app)
    const mine = await loginAs(app, user)
    await consents.grant(user, ACME, ['openid', 'offline_access'])
    await consents.grant(user, OTHER, ['openid'])
    const acme1 = await appTokens(user, ACME)
    const acme2 = await appTokens(user, ACME)
    const other = await appTokens(user, OTHER)
    // The same app's tokens for someone else are not the user's to withdraw.
    const stranger = await createUser(app)
    await consents.grant(stranger, ACME, ['openid'])
    const strangers = await appTokens(stranger, ACME)
    expect(await meStatus(app, acme1.headers)).toBe(200)
    const audit = auditTail(database)
    await audit.skip()

    const res = await app.inject({
      method: 'DELETE',
      url: `${URL}/${ACME.client_id}`,
      headers: mine.headers,
    })
    expect(res.statusCode).toBe(204)
    expect(res.body).toBe('')
    const [event] = (await audit.next()).filter((e) => e.type === 'consent_withdrawn')
    expect(event).toMatchObject({
      user_id: user.id,
      client_id: ACME.client_id,
      details: { sessions_revoked: 2 },
    })
    // Resource servers hear of it through the revocation feed (SPEC §11).
    const sidOf = (token: string) =>
      JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()).sid as string
    const feed = (await database.db.selectFrom('revocations').select('sid').execute()).map(
      (r) => r.sid,
    )
    expect(feed).toEqual(
      expect.arrayContaining([sidOf(acme1.pair.access_token), sidOf(acme2.pair.access_token)]),
    )
    expect(feed).not.toContain(sidOf(other.pair.access_token))

    for (const { pair, headers } of [acme1, acme2]) {
      expect(await meStatus(app, headers)).toBe(401)
      expect(await refreshStatus(app, ACME.client_id, pair.refresh_token)).toBe(400)
    }
    expect(await meStatus(app, mine.headers)).toBe(200)
    expect(await meStatus(app, other.headers)).toBe(200)
    expect(await refreshStatus(app, OTHER.client_id, other.pair.refresh_token)).toBe(200)
    expect(await meStatus(app, strangers.headers)).toBe(200)

    // Forgotten: the next authorization asks again, and the list no longer shows it.
    expect(await consents.needed(user, ACME, ['openid'])).toEqual(['openid'])
    const list = await app.inject({ method: 'GET', url: URL, headers: mine.headers })
    expect(list.json().map((a: { client_id: string }) => a.client_id)).toEqual([OTHER.client_id])
    expect(await consents.needed(stranger, ACME, ['openid'])).toEqual([])
  })

  it('404 for an app I never consented to, or already removed', async () => {
    const { app, consents, ACME } = await setup()
    const user = await createUser(app)
    const { headers } = await loginAs(app, user)
    const stranger = await createUser(app)
    await consents.grant(stranger, ACME, ['openid'])
    for (const id of [ACME.client_id, 'nope', 'keygate', '%20']) {
      const res = await app.inject({ method: 'DELETE', url: `${URL}/${id}`, headers })
      expect(res.statusCode, id).toBe(404)
      expect(res.json()).toEqual({ detail: 'App not found' })
    }
    await consents.grant(user, ACME, ['openid'])
    const first = await app.inject({ method: 'DELETE', url: `${URL}/${ACME.client_id}`, headers })
    expect(first.statusCode).toBe(204)
    const again = await app.inject({ method: 'DELETE', url: `${URL}/${ACME.client_id}`, headers })
    expect(again.statusCode).toBe(404)
    // The stranger's consent to the same app is untouched.
    expect(await consents.needed(stranger, ACME, ['openid'])).toEqual([])
  })
})
