import { decodeJwt } from 'jose'
import { describe, expect, it } from 'vitest'
import { buildAdminApp } from '../helpers/accounts.js'
import { basicAuth, registerClient, tokenRequest } from '../helpers/clients.js'
import { createUser, loginAs } from '../helpers/factories.js'

const INVALID_CLIENT = {
  error: 'invalid_client',
  error_description: 'Client authentication failed',
  detail: 'Client authentication failed',
}
const BASIC = 'Basic realm="keygate"'

/** An app with a first-party confidential client allowed every grant but authorization_code. */
async function setup() {
  const t = await buildAdminApp()
  const conf = await registerClient(t.app, t.admin.headers, {
    name: 'Backend',
    type: 'confidential',
    first_party: true,
    redirect_uris: ['https://app.example.com/cb'],
    grant_types: ['password', 'refresh_token', 'client_credentials'],
    scopes: ['openid', 'posts:write'],
  })
  const pub = await registerClient(t.app, t.admin.headers, {
    name: 'CLI',
    type: 'public',
    first_party: true,
    redirect_uris: ['http://127.0.0.1/cb'],
    grant_types: ['password', 'refresh_token'],
  })
  const user = await createUser(t.app)
  return { ...t, conf: { id: conf.client_id, secret: conf.client_secret as string }, pub, user }
}

describe('token endpoint: client authentication on every grant', () => {
  it('an unregistered client_id is 401 invalid_client on password, refresh and client_credentials', async () => {
    const { app, user } = await setup()
    const { tokens } = await loginAs(app, user)
    const grants: Record<string, string>[] = [
      { username: user.email, password: user.password },
      { grant_type: 'password', username: user.email, password: user.password },
      { grant_type: 'refresh_token', refresh_token: tokens.refresh_token },
      { grant_type: 'client_credentials' },
    ]
    for (const grant of grants) {
      const form = await app.inject(tokenRequest({ ...grant, client_id: 'nobody' }))
      expect(form.statusCode, JSON.stringify(grant)).toBe(401)
      expect(form.json()).toEqual(INVALID_CLIENT)
      expect(form.headers['www-authenticate']).toBeUndefined()
      const basic = await app.inject(tokenRequest(grant, basicAuth('nobody', 'x')))
      expect(basic.statusCode).toBe(401)
      expect(basic.json()).toEqual(INVALID_CLIENT)
      expect(basic.headers['www-authenticate']).toBe(BASIC)
    }
    // The refresh token was not spent by those attempts.
    const ok = await app.inject(
      tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token }),
    )
    expect(ok.statusCode, ok.body).toBe(200)
  })

  it('a confidential client with a wrong or missing secret is 401 on every grant; Basic gets the challenge', async () => {
    const { app, conf, user } = await setup()
    const good = await app.inject(
      tokenRequest(
        { username: user.email, password: user.password },
        basicAuth(conf.id, conf.secret),
      ),
    )
    expect(good.statusCode, good.body).toBe(200)
    const grants: Record<string, string>[] = [
      { username: user.email, password: user.password },
      { grant_type: 'refresh_token', refresh_token: good.json().refresh_token },
      { grant_type: 'client_credentials' },
    ]
    for (const grant of grants) {
      const label = JSON.stringify(grant)
      const missing = await app.inject(tokenRequest({ ...grant, client_id: conf.id }))
      expect(missing.statusCode, label).toBe(401)
      expect(missing.json()).toEqual(INVALID_CLIENT)
      expect(missing.headers['www-authenticate']).toBeUndefined()
      const wrongPost = await app.inject(
        tokenRequest({ ...grant, client_id: conf.id, client_secret: `${conf.secret}x` }),
      )
      expect(wrongPost.statusCode, label).toBe(401)
      expect(wrongPost.headers['www-authenticate']).toBeUndefined()
      for (const headers of [basicAuth(conf.id, 'wrong'), basicAuth(conf.id, '')]) {
        const wrongBasic = await app.inject(tokenRequest(grant, headers))
        expect(wrongBasic.statusCode, label).toBe(401)
        expect(wrongBasic.json()).toEqual(INVALID_CLIENT)
        expect(wrongBasic.headers['www-authenticate']).toBe(BASIC)
      }
    }
  })

  it('client_secret_basic and client_secret_post both work; the token names the client', async () => {
    const { app, conf, user } = await setup()
    const creds = { username: user.email, password: user.password }
    const basic = await app.inject(tokenRequest(creds, basicAuth(conf.id, conf.secret)))
    const post = await app.inject(
      tokenRequest({ ...creds, client_id: conf.id, client_secret: conf.secret }),
    )
    for (const res of [basic, post]) {
      expect(res.statusCode, res.body).toBe(200)
      expect(decodeJwt(res.json().access_token).client_id).toBe(conf.id)
    }
    // Refresh with the same client keeps the client in the new token.
    const refreshed = await app.inject(
      tokenRequest(
        { grant_type: 'refresh_token', refresh_token: basic.json().refresh_token },
        basicAuth(conf.id, conf.secret),
      ),
    )
    expect(refreshed.statusCode, refreshed.body).toBe(200)
    expect(decodeJwt(refreshed.json().access_token).client_id).toBe(conf.id)
    // Two methods at once is invalid_request (RFC 6749 §2.3).
    const both = await app.inject(
      tokenRequest({ ...creds, client_secret: conf.secret }, basicAuth(conf.id, conf.secret)),
    )
    expect(both.statusCode).toBe(400)
    expect(both.json().error).toBe('invalid_request')
  })

  it('a public client names itself (auth method none)', async () => {
    const { app, pub, user } = await setup()
    const res = await app.inject(
      tokenRequest({ username: user.email, password: user.password, client_id: pub.client_id }),
    )
    expect(res.statusCode, res.body).toBe(200)
    expect(decodeJwt(res.json().access_token).client_id).toBe(pub.client_id)
  })

  it("a grant outside the client's grant_types is 400 unauthorized_client", async () => {
    const { app, admin, pub, user } = await setup()
    const codeOnly = await registerClient(app, admin.headers, {
      name: 'Web',
      type: 'confidential',
      redirect_uris: ['https://web.example.com/cb'],
      grant_types: ['authorization_code'],
    })
    const auth = basicAuth(codeOnly.client_id, codeOnly.client_secret as string)
    const { tokens } = await loginAs(app, user)
    const cases: [Record<string, string>, Record<string, string>][] = [
      [{ username: user.email, password: user.password }, auth],
      [{ grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, auth],
      [{ grant_type: 'client_credentials' }, auth],
      [{ grant_type: 'client_credentials', client_id: pub.client_id }, {}],
      [{ grant_type: 'client_credentials' }, {}], // the built-in client
    ]
    for (const [fields, headers] of cases) {
      const res = await app.inject(tokenRequest(fields, headers))
      expect(res.statusCode, JSON.stringify(fields)).toBe(400)
      expect(res.json().error).toBe('unauthorized_client')
    }
  })

  it('a refresh token refreshes only for its own client (invalid_grant, nothing spent)', async () => {
    const { app, conf, pub, user } = await setup()
    const { tokens: builtin } = await loginAs(app, user)
    const viaPub = await app.inject(
      tokenRequest({ username: user.email, password: user.password, client_id: pub.client_id }),
    )
    const pubRefresh = viaPub.json().refresh_token as string
    const cases: [string, Record<string, string>, Record<string, string>][] = [
      [builtin.refresh_token, { client_id: pub.client_id }, {}],
      [builtin.refresh_token, {}, basicAuth(conf.id, conf.secret)],
      [pubRefresh, {}, {}],
      [pubRefresh, {}, basicAuth(conf.id, conf.secret)],
    ]
    for (const [refresh_token, fields, headers] of cases) {
      const res = await app.inject(
        tokenRequest({ grant_type: 'refresh_token', refresh_token, ...fields }, headers),
      )
      expect(res.statusCode).toBe(400)
      expect(res.json().error).toBe('invalid_grant')
    }
    // The JSON refresh route is the built-in client's: another client's token is refused there.
    const json = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refresh_token: pubRefresh },
    })
    expect(json.statusCode).toBe(401)
    // Both tokens still work for their own clients.
    const own = await app.inject(
      tokenRequest({
        grant_type: 'refresh_token',
        refresh_token: pubRefresh,
        client_id: pub.client_id,
      }),
    )
    expect(own.statusCode, own.body).toBe(200)
    const mine = await app.inject(
      tokenRequest({ grant_type: 'refresh_token', refresh_token: builtin.refresh_token }),
    )
    expect(mine.statusCode, mine.body).toBe(200)
  })

  it("Swagger UI's empty client (Basic Og==, empty client_id) is still the built-in client", async () => {
    const { app, user } = await setup()
    for (const req of [
      tokenRequest(
        { username: user.email, password: user.password },
        { authorization: 'Basic Og==' },
      ),
      tokenRequest({
        username: user.email,
        password: user.password,
        client_id: '',
        client_secret: '',
      }),
    ]) {
      const res = await app.inject(req)
      expect(res.statusCode, res.body).toBe(200)
      expect(decodeJwt(res.json().access_token).client_id).toBe('keygate')
    }
  })
})

describe('client_credentials', () => {
  it('issues a client token: sub = client_id, no sid, no refresh token, scope in the answer', async () => {
    const { app, conf } = await setup()
    const res = await app.inject(
      tokenRequest({ grant_type: 'client_credentials' }, basicAuth(conf.id, conf.secret)),
    )
    expect(res.statusCode, res.body).toBe(200)
    expect(res.headers['cache-control']).toBe('no-store')
    const body = res.json()
    expect(body).toEqual({
      access_token: expect.any(String),
      token_type: 'bearer',
      expires_in: 1800,
      scope: 'openid posts:write',
    })
    const claims = decodeJwt(body.access_token)
    expect(claims).toMatchObject({ sub: conf.id, client_id: conf.id, scope: 'openid posts:write' })
    expect(claims).not.toHaveProperty('sid')
    // Narrowed by request; client_secret_post works too.
    const narrowed = await app.inject(
      tokenRequest({
        grant_type: 'client_credentials',
        scope: 'posts:write',
        client_id: conf.id,
        client_secret: conf.secret,
      }),
    )
    expect(narrowed.statusCode, narrowed.body).toBe(200)
    expect(narrowed.json().scope).toBe('posts:write')
  })

  it('a scope the client was not registered for is 400 invalid_scope', async () => {
    const { app, conf } = await setup()
    for (const scope of ['admin', 'posts:write account', 'no-such-scope']) {
      const res = await app.inject(
        tokenRequest({ grant_type: 'client_credentials', scope }, basicAuth(conf.id, conf.secret)),
      )
      expect(res.statusCode, scope).toBe(400)
      expect(res.json().error).toBe('invalid_scope')
    }
  })

  it("Keygate's user routes answer the client token 403 Not enough permissions", async () => {
    const { app, conf, admin } = await setup()
    const res = await app.inject(
      tokenRequest({ grant_type: 'client_credentials' }, basicAuth(conf.id, conf.secret)),
    )
    const headers = { authorization: `Bearer ${res.json().access_token}` }
    for (const call of [
      { method: 'GET', url: '/api/v1/users/me' },
      { method: 'GET', url: '/api/v1/users/me/sessions' },
      { method: 'GET', url: '/api/v1/users' },
      { method: 'GET', url: '/api/v1/clients' },
      { method: 'POST', url: '/api/v1/posts', payload: { title: 't', content: 'c' } },
      { method: 'POST', url: '/api/v1/auth/logout' },
    ] as const) {
      const r = await app.inject({ ...call, headers })
      expect(r.statusCode, call.url).toBe(403)
      expect(r.json()).toEqual({ detail: 'Not enough permissions' })
    }
    // A client token is no superuser for introspection either.
    const intro = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/introspect',
      headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
      payload: `token=${res.json().access_token}`,
    })
    expect(intro.statusCode).toBe(403)
    expect(admin).toBeDefined()
  })

  it('a client token dies at once when its client loses the client_credentials grant', async () => {
    const { app, conf, admin } = await setup()
    const res = await app.inject(
      tokenRequest({ grant_type: 'client_credentials' }, basicAuth(conf.id, conf.secret)),
    )
    const headers = { authorization: `Bearer ${res.json().access_token}` }
    expect((await app.inject({ url: '/api/v1/users/me', headers })).statusCode).toBe(403)
    const patch = await app.inject({
      method: 'PATCH',
      url: `/api/v1/clients/${conf.id}`,
      headers: admin.headers,
      payload: { grant_types: ['password', 'refresh_token'] },
    })
    expect(patch.statusCode, patch.body).toBe(200)
    const dead = await app.inject({ url: '/api/v1/users/me', headers })
    expect(dead.statusCode).toBe(401)
    expect(dead.headers['www-authenticate']).toBe('Bearer realm="keygate", error="invalid_token"')
  })

  it('introspection reports it (no username, no sid); inactive once the client is deleted', async () => {
    const { app, conf, admin } = await setup()
    const res = await app.inject(
      tokenRequest({ grant_type: 'client_credentials' }, basicAuth(conf.id, conf.secret)),
    )
    const token = res.json().access_token as string
    const introspect = async () => {
      const r = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/introspect',
        headers: { ...admin.headers, 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ token }).toString(),
      })
      expect(r.statusCode).toBe(200)
      return r.json()
    }
    const live = await introspect()
    expect(live).toMatchObject({
      active: true,
      sub: conf.id,
      client_id: conf.id,
      scope: 'openid posts:write',
      token_type: 'access_token',
    })
    expect(live).not.toHaveProperty('username')
    expect(live).not.toHaveProperty('sid')
    const del = await app.inject({
      method: 'DELETE',
      url: `/api/v1/clients/${conf.id}`,
      headers: admin.headers,
    })
    expect(del.statusCode).toBe(204)
    expect(await introspect()).toEqual({ active: false })
    // And the client itself is gone from the token endpoint.
    const again = await app.inject(
      tokenRequest({ grant_type: 'client_credentials' }, basicAuth(conf.id, conf.secret)),
    )
    expect(again.statusCode).toBe(401)
  })
})
