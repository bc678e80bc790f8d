import { decodeJwt } from 'jose'
import { describe, expect, it } from 'vitest'
import { toAuditEvent } from '../../src/repos/audit-events.js'
import { auditRows } from '../helpers/audit.js'
import { basicAuth, registerClient, tokenRequest } from '../helpers/clients.js'
import { exchangeCode, getCode, oidcSetup, REDIRECT } from '../helpers/oidc.js'

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

describe('grant_type=authorization_code', () => {
  it('trades a code for tokens and an ID token bound to the browser session', async () => {
    const { app, browser, client, user } = await oidcSetup(
      {},
      { first_party: true, scopes: ['openid', 'profile', 'email', 'account'] },
    )
    const { code, verifier } = await getCode(browser, client.client_id, {
      scope: 'openid profile email account',
    })
    const res = await exchangeCode(app, {
      code,
      code_verifier: verifier,
      client_id: client.client_id,
    })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.headers['cache-control']).toBe('no-store')
    const body = res.json()
    expect(body).toMatchObject({ token_type: 'bearer', scope: 'openid profile email account' })
    expect(body.refresh_token).toBeTypeOf('string')
    const id = decodeJwt(body.id_token)
    expect(id).toMatchObject({
      sub: user.id,
      aud: client.client_id,
      nonce: 'nonce-1',
      amr: ['pwd'],
      email: user.email,
      email_verified: false,
      preferred_username: user.username,
    })
    expect(id.auth_time).toBeTypeOf('number')
    const access = decodeJwt(body.access_token)
    expect(access).toMatchObject({ sub: user.id, client_id: client.client_id })
    // The app's session is its own, listed with the client's name, a child of the browser session.
    expect(access.sid).not.toBe(id.sid)
    const sessions = await app.inject({
      method: 'GET',
      url: '/api/v1/users/me/sessions',
      headers: bearer(body.access_token),
    })
    const mine = sessions.json().find((s: { current: boolean }) => s.current)
    expect(mine).toMatchObject({ client_id: client.client_id, client_name: 'Example App' })

    const info = await app.inject({
      method: 'GET',
      url: '/oauth/userinfo',
      headers: bearer(body.access_token),
    })
    expect(info.statusCode).toBe(200)
    expect(info.json()).toEqual({
      sub: user.id,
      preferred_username: user.username,
      email: user.email,
      email_verified: false,
    })
    const post = await app.inject({
      method: 'POST',
      url: '/oauth/userinfo',
      headers: bearer(body.access_token),
    })
    expect(post.json().sub).toBe(user.id)
  })

  it('refuses a wrong verifier, another redirect URI, another client, and an expired code', async () => {
    const { app, admin, browser, client, clock } = await oidcSetup()
    const other = await registerClient(app, admin.headers, {
      name: 'Other',
      type: 'public',
      redirect_uris: [REDIRECT],
    })
    const { code, verifier } = await getCode(browser, client.client_id)
    const attempts: Record<string, string>[] = [
      { code, code_verifier: `${verifier.slice(0, -1)}x`, client_id: client.client_id },
      { code, code_verifier: verifier, client_id: client.client_id, redirect_uri: `${REDIRECT}?x` },
      { code, code_verifier: verifier, client_id: other.client_id },
      { code, client_id: client.client_id },
    ]
    for (const fields of attempts) {
      const res = await exchangeCode(app, fields)
      expect(res.statusCode, JSON.stringify(fields)).toBe(400)
      expect(res.json().error).toBe('invalid_grant')
    }
    const late = await getCode(browser, client.client_id)
    clock.advanceSeconds(61)
    const res = await exchangeCode(app, {
      code: late.code,
      code_verifier: late.verifier,
      client_id: client.client_id,
    })
    expect(res.json().error).toBe('invalid_grant')
  })

  it('a code presented twice is refused and the tokens issued from it die', async () => {
    const { app, browser, client, database } = await oidcSetup(
      {},
      { scopes: ['openid', 'offline_access'] },
    )
    const { code, verifier } = await getCode(browser, client.client_id, {
      scope: 'openid offline_access',
    })
    const fields = { code, code_verifier: verifier, client_id: client.client_id }
    const first = await exchangeCode(app, fields)
    expect(first.statusCode).toBe(200)
    const { access_token, refresh_token } = first.json()
    expect(refresh_token).toBeTypeOf('string')
    const replay = await exchangeCode(app, fields)
    expect(replay.statusCode).toBe(400)
    expect(replay.json().error).toBe('invalid_grant')
    const me = await app.inject({
      method: 'GET',
      url: '/api/v1/users/me',
      headers: bearer(access_token),
    })
    expect(me.statusCode).toBe(401)
    const refreshed = await app.inject(
      tokenRequest({ grant_type: 'refresh_token', refresh_token, client_id: client.client_id }),
    )
    expect(refreshed.statusCode).toBe(400)
    // Both the app's sign-in and the revocation are in the audit log.
    const rows = (await auditRows(database)).map(toAuditEvent)
    const signIn = rows.find(
      (r) => r.type === 'sign_in_succeeded' && r.details.via === 'authorization_code',
    )
    expect(signIn?.client_id).toBe(client.client_id)
    const revoked = rows.find((r) => r.type === 'session_revoked')
    expect(revoked?.details).toMatchObject({ reason: 'authorization_code_replayed' })
  })

  it('a code dies with the browser session it came from', async () => {
    const { app, browser, client } = await oidcSetup()
    const { code, verifier } = await getCode(browser, client.client_id)
    expect((await browser.post('/signout', {}, { from: '/account' })).statusCode).toBe(303)
    const res = await exchangeCode(app, {
      code,
      code_verifier: verifier,
      client_id: client.client_id,
    })
    expect(res.json().error).toBe('invalid_grant')
  })

  it('of two concurrent exchanges of one code, one wins and its tokens are revoked too', async () => {
    const { app, browser, client } = await oidcSetup()
    const { code, verifier } = await getCode(browser, client.client_id)
    const fields = { code, code_verifier: verifier, client_id: client.client_id }
    const answers = await Promise.all([exchangeCode(app, fields), exchangeCode(app, fields)])
    const statuses = answers.map((r) => r.statusCode).sort()
    expect(statuses).toEqual([200, 400])
    const won = answers.find((r) => r.statusCode === 200)!.json()
    const me = await app.inject({
      method: 'GET',
      url: '/api/v1/users/me',
      headers: bearer(won.access_token),
    })
    expect(me.statusCode).toBe(401)
  })

  it('a confidential client authenticates; a third party gets a refresh token only with offline_access', async () => {
    const { app, browser, client } = await oidcSetup({}, { type: 'confidential' })
    const secret = client.client_secret!
    const { code, verifier } = await getCode(browser, client.client_id)
    const wrong = await exchangeCode(
      app,
      { code, code_verifier: verifier },
      basicAuth(client.client_id, 'nope'),
    )
    expect(wrong.statusCode).toBe(401)
    expect(wrong.json().error).toBe('invalid_client')
    const ok = await exchangeCode(
      app,
      { code, code_verifier: verifier },
      basicAuth(client.client_id, secret),
    )
    expect(ok.statusCode, ok.body).toBe(200)
    expect(ok.json().refresh_token).toBeUndefined()
    expect(ok.json().id_token).toBeTypeOf('string')

    const offline = await getCode(browser, client.client_id, { scope: 'openid offline_access' })
    const withRefresh = await exchangeCode(app, {
      code: offline.code,
      code_verifier: offline.verifier,
      client_id: client.client_id,
      client_secret: secret,
    })
    expect(withRefresh.json().refresh_token).toBeTypeOf('string')
  })

  it('UserInfo needs the openid scope', async () => {
    const { app, browser, client } = await oidcSetup()
    const { code, verifier } = await getCode(browser, client.client_id, { scope: 'email' })
    const res = await exchangeCode(app, {
      code,
      code_verifier: verifier,
      client_id: client.client_id,
    })
    expect(res.json().id_token).toBeUndefined()
    const info = await app.inject({
      method: 'GET',
      url: '/oauth/userinfo',
      headers: bearer(res.json().access_token),
    })
    expect(info.statusCode).toBe(403)
    expect(info.headers['www-authenticate']).toContain('insufficient_scope')
  })
})
