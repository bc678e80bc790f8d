import type { FastifyInstance } from 'fastify'
import { decodeJwt } from 'jose'
import { describe, expect, it } from 'vitest'
import { buildTestApp } from '../helpers/app.js'
import { tokenRequest } from '../helpers/clients.js'
import { createUser, loginAs } from '../helpers/factories.js'
import { exchangeCode, getCode, oidcSetup } from '../helpers/oidc.js'
import { csrfOf, pageClient, signInPage } from '../helpers/pages.js'
import { createSoftAuthenticator } from '../helpers/soft-authenticator.js'
import { enableTotp } from '../helpers/totp.js'

const ORIGIN = 'http://localhost:8000'

/** A page client's ceremonies: the passkeys script's JSON calls, with a software authenticator. */
async function ceremonies(app: FastifyInstance, client: ReturnType<typeof pageClient>) {
  const csrf = csrfOf((await client.get('/signin')).body)
  const json = async (
    url: string,
    payload: unknown = {},
    opts: { origin?: string; csrf?: string } = {},
  ) => {
    const res = await app.inject({
      method: 'POST',
      url,
      headers: {
        origin: opts.origin ?? ORIGIN,
        'x-csrf-token': opts.csrf ?? csrf,
        cookie: client.jar.header(),
      },
      payload: payload as Record<string, unknown>,
    })
    client.jar.take(res.headers['set-cookie'])
    return res
  }
  const device = createSoftAuthenticator({ origin: ORIGIN })
  /** Adds a passkey through the account page's ceremony. */
  const register = async (name?: string) => {
    const { options } = (await json('/passkeys/register/options')).json()
    return json('/passkeys/register', { response: device.register(options), name })
  }
  const passkeySignIn = async (returnTo?: string) => {
    const { options } = (await json('/passkeys/signin/options')).json()
    const query = returnTo === undefined ? '' : `?return_to=${encodeURIComponent(returnTo)}`
    return json(`/passkeys/signin${query}`, { response: device.authenticate(options) })
  }
  return { json, device, register, passkeySignIn }
}

async function setup() {
  const t = await buildTestApp({ publicUrl: ORIGIN })
  const client = pageClient(t.app, ORIGIN)
  return { ...t, client, ...(await ceremonies(t.app, client)) }
}

describe('passkey ceremonies behind the hosted pages', () => {
  it('refuses another origin, a missing or wrong CSRF token, as JSON', async () => {
    const { json } = await setup()
    for (const opts of [
      { origin: 'http://evil.example' },
      { csrf: '' },
      { csrf: 'x'.repeat(43) },
    ]) {
      const res = await json('/passkeys/signin/options', {}, opts)
      expect(res.statusCode, JSON.stringify(opts)).toBe(403)
      expect(res.json()).toEqual({ detail: 'Form refused' })
    }
  })

  it('keeps the challenge handle in an HttpOnly, SameSite=Strict cookie for 5 minutes', async () => {
    const { json } = await setup()
    const res = await json('/passkeys/signin/options')
    expect(res.statusCode).toBe(200)
    expect(res.headers['cache-control']).toBe('no-store')
    const cookie = String(res.headers['set-cookie'])
    expect(cookie).toMatch(/^keygate_webauthn=[A-Za-z0-9_-]{43};/)
    expect(cookie).toContain('Max-Age=300')
    expect(cookie).toContain('HttpOnly')
    expect(cookie).toContain('SameSite=Strict')
    const { options } = res.json()
    expect(options.rpId).toBe('localhost')
    expect(options.userVerification).toBe('required')
    expect(options.allowCredentials ?? []).toEqual([])
    // The handle is not the challenge: the challenge stays on the server.
    expect(cookie).not.toContain(options.challenge)
  })

  it('adds a passkey only for a signed-in browser with a fresh sign-in', async () => {
    const { client, register, json, clock, app } = await setup()
    const anonymous = await json('/passkeys/register/options')
    expect(anonymous.statusCode).toBe(403)
    expect(anonymous.json()).toEqual({ detail: 'Sign in first' })
    const user = await createUser(app)
    await signInPage(client, user)
    const added = await register('Laptop')
    expect(added.statusCode).toBe(201)
    expect(added.json()).toMatchObject({
      passkey: { name: 'Laptop', last_used_at: null, synced: false },
      redirect: '/account?done=passkey-added#passkeys',
    })
    const account = await client.get('/account?done=passkey-added')
    expect(account.body).toContain('Your passkey was added.')
    expect(account.body).toContain('Laptop')
    expect(account.body).toContain('data-passkey="register"')
    expect(account.body).toContain('src="/assets/passkeys.js"')

    clock.advance(11 * 60_000)
    const stale = await json('/passkeys/register/options')
    expect(stale.statusCode).toBe(403)
    expect(stale.json()).toEqual({ detail: 'Sign in again to add a passkey' })
    const later = await client.get('/account')
    expect(later.body).not.toContain('data-passkey="register"')
    expect(later.body).toContain('sign in again')
  })

  it('signs in with a passkey alone: a browser session with amr hwk+user, back to return_to', async () => {
    const { client, register, passkeySignIn, app, database, clock } = await setup()
    const user = await createUser(app)
    await signInPage(client, user)
    await register()
    client.jar.cookies.delete('keygate_session')
    expect((await client.get('/account')).statusCode).toBe(303)

    clock.advance(1000)
    const res = await passkeySignIn('/account?from=passkey')
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ redirect: '/account?from=passkey' })
    expect(String(res.headers['set-cookie'])).toMatch(/keygate_session=/)
    expect((await client.get('/account')).body).toContain(user.email)
    const session = await database.db
      .selectFrom('sessions')
      .select('amr')
      .where('user_id', '=', user.id)
      .where('revoked_at', 'is', null)
      .orderBy('created_at', 'desc')
      .executeTakeFirstOrThrow()
    expect(session.amr).toBe('hwk user')
    // A return_to off Keygate is ignored (no open redirect).
    expect((await passkeySignIn('https://evil.example/')).json()).toEqual({ redirect: '/account' })
  })

  it('refuses a replayed answer, and a malformed one with a 422', async () => {
    const { client, register, json, device, app } = await setup()
    await signInPage(client, await createUser(app))
    await register()
    const { options } = (await json('/passkeys/signin/options')).json()
    const answer = { response: device.authenticate(options) }
    const handle = client.jar.cookies.get('keygate_webauthn') ?? ''
    expect((await json('/passkeys/signin', answer)).statusCode).toBe(200)
    client.jar.cookies.set('keygate_webauthn', handle)
    const replay = await json('/passkeys/signin', answer)
    expect(replay.statusCode).toBe(400)
    expect(replay.json()).toEqual({ detail: 'Passkey request expired, try again' })
    const bad = await json('/passkeys/signin', { response: { id: 'not base64url!' } })
    expect(bad.statusCode).toBe(422)
  })

  it('renames and deletes from the account page; another user’s passkey is a 404 page', async () => {
    const { client, register, app } = await setup()
    await signInPage(client, await createUser(app))
    const { passkey } = (await register('Laptop')).json()
    const renamed = await client.post(
      `/account/passkeys/${passkey.id}/rename`,
      { name: 'Phone' },
      { from: '/account' },
    )
    expect(renamed.statusCode).toBe(303)
    expect(renamed.headers.location).toBe('/account?done=passkey-renamed#passkeys')
    expect((await client.get('/account')).body).toContain('Phone')

    const other = pageClient(app, ORIGIN)
    await signInPage(other, await createUser(app))
    const foreign = await other.post(
      `/account/passkeys/${passkey.id}/delete`,
      {},
      { from: '/account' },
    )
    expect(foreign.statusCode).toBe(404)
    expect(foreign.headers['content-type']).toMatch(/^text\/html/)

    const deleted = await client.post(
      `/account/passkeys/${passkey.id}/delete`,
      {},
      { from: '/account' },
    )
    expect(deleted.headers.location).toBe('/account?done=passkey-deleted#passkeys')
    expect((await client.get('/account')).body).toContain('No passkeys yet.')
  })

  it('audits enrolment, use and removal with the sign-in, in the same transaction', async () => {
    const { client, register, passkeySignIn, app, database, clock } = await setup()
    const user = await createUser(app)
    await signInPage(client, user)
    const { passkey } = (await register('Laptop')).json()
    clock.advance(1000)
    await passkeySignIn()
    await client.post(`/account/passkeys/${passkey.id}/delete`, {}, { from: '/account' })
    const events = await database.db
      .selectFrom('audit_events')
      .select(['type', 'details', 'request_id'])
      .where('user_id', '=', user.id)
      .orderBy('id')
      .execute()
    const passkeyEvents = events.filter((e) => e.details.includes('passkey'))
    expect(passkeyEvents.map((e) => e.type)).toEqual([
      'factor_enrolled',
      'factor_used',
      'factor_removed',
    ])
    expect(passkeyEvents.every((e) => e.request_id)).toBe(true)
    const signIns = events.filter((e) => e.type === 'sign_in_succeeded').map((e) => e.details)
    expect(signIns.at(-1)).toContain('hwk user')
  })

  it('is the second factor after a password when the account has TOTP: amr pwd+hwk+user+mfa', async () => {
    const { client, register, json, device, app, clock, database } = await setup()
    const user = await createUser(app)
    await signInPage(client, user)
    await register()
    await enableTotp(app, clock, (await loginAs(app, user)).headers, user.password)
    client.jar.cookies.delete('keygate_session')

    const password = await client.post('/signin', { username: user.email, password: user.password })
    expect(password.statusCode).toBe(303)
    expect(password.headers.location).toBe('/signin/second-step')
    expect(client.jar.cookies.has('keygate_session')).toBe(false)
    const step = await client.get('/signin/second-step')
    expect(step.body).toContain('data-options="/signin/second-step/passkey/options"')

    const { options } = (await json('/signin/second-step/passkey/options')).json()
    // Only this account's passkeys are asked for.
    expect(options.allowCredentials.map((c: { id: string }) => c.id)).toEqual([
      Buffer.from(device.credentials[0]?.id ?? []).toString('base64url'),
    ])
    clock.advance(1000)
    const done = await json('/signin/second-step/passkey', {
      response: device.authenticate(options),
    })
    expect(done.statusCode, done.body).toBe(200)
    expect(done.json()).toEqual({ redirect: '/account' })
    expect((await client.get('/account')).body).toContain(user.email)
    const session = await database.db
      .selectFrom('sessions')
      .select('amr')
      .where('user_id', '=', user.id)
      .where('revoked_at', 'is', null)
      // browser sessions only (the API's have no auth_time, and NULLs sort first on PostgreSQL)
      .where('cookie_hash', 'is not', null)
      .orderBy('auth_time', 'desc')
      .executeTakeFirstOrThrow()
    expect(session.amr).toBe('pwd hwk user mfa')
    // The pending sign-in is spent: its step cannot be used again.
    const again = await json('/signin/second-step/passkey/options')
    expect(again.statusCode).toBe(400)
    expect(again.json()).toEqual({ detail: 'This sign-in has expired. Sign in again.' })
  })

  it('refuses another account’s passkey at the second step, and without a pending sign-in', async () => {
    const { client, register, json, app, clock, device, database } = await setup()
    expect((await json('/signin/second-step/passkey/options')).statusCode).toBe(400)
    // Mallory has a passkey of her own on her device…
    const mallory = await createUser(app)
    await signInPage(client, mallory)
    await register()
    const mine = device.credentials[0]
    // …and the password of a victim whose account has TOTP and a passkey.
    const victim = await createUser(app)
    const victimClient = pageClient(app, ORIGIN)
    await signInPage(victimClient, victim)
    const csrf = csrfOf((await victimClient.get('/account')).body)
    const post = async (url: string, payload: unknown) => {
      const res = await app.inject({
        method: 'POST',
        url,
        headers: { origin: ORIGIN, 'x-csrf-token': csrf, cookie: victimClient.jar.header() },
        payload: payload as Record<string, unknown>,
      })
      victimClient.jar.take(res.headers['set-cookie'])
      return res
    }
    const victimDevice = createSoftAuthenticator({ origin: ORIGIN })
    const { options: creation } = (await post('/passkeys/register/options', {})).json()
    await post('/passkeys/register', { response: victimDevice.register(creation) })
    await enableTotp(app, clock, (await loginAs(app, victim)).headers, victim.password)

    client.jar.cookies.delete('keygate_session')
    await client.post('/signin', { username: victim.email, password: victim.password })
    const { options } = (await json('/signin/second-step/passkey/options')).json()
    const forged = device.authenticate(options, { credential: mine })
    const refused = await json('/signin/second-step/passkey', { response: forged })
    expect(refused.statusCode).toBe(400)
    expect(refused.json()).toEqual({ detail: 'Passkey not accepted' })
    expect(client.jar.cookies.has('keygate_session')).toBe(false)
    // SPEC §10: a failed second step is audited against the account it was for.
    const failed = await database.db
      .selectFrom('audit_events')
      .select('details')
      .where('user_id', '=', victim.id)
      .where('type', '=', 'sign_in_failed')
      .execute()
    expect(failed.map((e) => JSON.parse(e.details).reason)).toEqual(['second_factor_failed'])
  })

  it('carries amr into the ID and access tokens of apps the browser signs in to', async () => {
    const t = await oidcSetup({ publicUrl: ORIGIN }, { first_party: true })
    const { register, passkeySignIn } = await ceremonies(t.app, t.browser)
    expect((await register()).statusCode).toBe(201)
    t.clock.advance(1000)
    expect((await passkeySignIn()).statusCode).toBe(200)
    const { code, verifier } = await getCode(t.browser, t.client.client_id)
    const res = await exchangeCode(t.app, {
      code,
      code_verifier: verifier,
      client_id: t.client.client_id,
    })
    expect(res.statusCode, res.body).toBe(200)
    const body = res.json()
    expect(decodeJwt(body.id_token)).toMatchObject({ amr: ['hwk', 'user'], sub: t.user.id })
    expect(decodeJwt(body.access_token).amr).toEqual(['hwk', 'user'])
    // …and the app's refreshed tokens keep it.
    const refreshed = await t.app.inject(
      tokenRequest({
        grant_type: 'refresh_token',
        refresh_token: body.refresh_token,
        client_id: t.client.client_id,
      }),
    )
    expect(refreshed.statusCode, refreshed.body).toBe(200)
    expect(decodeJwt(refreshed.json().access_token).amr).toEqual(['hwk', 'user'])
  })
})
