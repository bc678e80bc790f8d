import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { buildAdminApp } from '../helpers/accounts.js'
import { basicAuth, CLIENTS, registerClient, tokenRequest } from '../helpers/clients.js'
import { createUser, loginAs } from '../helpers/factories.js'

const WEB = { name: 'Web app', type: 'confidential', redirect_uris: ['https://app.example.com/cb'] }

describe('clients API: who may call it', () => {
  it('403 for a normal user on every route (also for unknown ids), 401 without a token', async () => {
    const { app } = await buildAdminApp()
    const user = await createUser(app)
    const { headers } = await loginAs(app, user)
    const calls = [
      { method: 'POST', url: CLIENTS, payload: WEB },
      { method: 'GET', url: CLIENTS },
      { method: 'GET', url: `${CLIENTS}/keygate` },
      { method: 'GET', url: `${CLIENTS}/nope` },
      { method: 'PATCH', url: `${CLIENTS}/nope`, payload: { name: 'x' } },
      { method: 'DELETE', url: `${CLIENTS}/nope` },
      { method: 'POST', url: `${CLIENTS}/nope/secret` },
    ] as const
    for (const call of calls) {
      const res = await app.inject({ ...call, headers })
      expect(res.statusCode, `${call.method} ${call.url}`).toBe(403)
      expect(res.json()).toEqual({ detail: 'Not enough permissions' })
      const anonymous = await app.inject(call)
      expect(anonymous.statusCode).toBe(401)
    }
  })
})

describe('clients API: CRUD', () => {
  it('registers a confidential client: secret once, stored only as its SHA-256', async () => {
    const { app, admin, database } = await buildAdminApp()
    const res = await app.inject({
      method: 'POST',
      url: CLIENTS,
      headers: admin.headers,
      payload: WEB,
    })
    expect(res.statusCode, res.body).toBe(201)
    expect(res.headers['cache-control']).toBe('no-store')
    const created = res.json()
    expect(res.headers.location).toBe(`${CLIENTS}/${created.client_id}`)
    expect(created.client_id).toMatch(/^[A-Za-z0-9_-]{22}$/)
    expect(created.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/) // 256 bits, base64url
    // SPEC §6 defaults.
    expect(created).toMatchObject({
      name: 'Web app',
      type: 'confidential',
      redirect_uris: ['https://app.example.com/cb'],
      post_logout_redirect_uris: [],
      grant_types: ['authorization_code', 'refresh_token'],
      scopes: ['openid', 'profile', 'email', 'offline_access'],
      first_party: false,
    })

    const row = await database.db
      .selectFrom('clients')
      .selectAll()
      .where('client_id', '=', created.client_id)
      .executeTakeFirstOrThrow()
    expect(row.secret_hash).toBe(createHash('sha256').update(created.client_secret).digest('hex'))
    expect(JSON.stringify(row)).not.toContain(created.client_secret)

    const one = await app.inject({ url: `${CLIENTS}/${created.client_id}`, headers: admin.headers })
    expect(one.statusCode).toBe(200)
    expect(one.json()).not.toHaveProperty('client_secret')
    expect(one.body).not.toContain(created.client_secret)
    expect(one.body).not.toContain(row.secret_hash as string)
    const { client_secret: _, ...publicView } = created
    expect(one.json()).toEqual(publicView)

    const list = await app.inject({ url: CLIENTS, headers: admin.headers })
    expect(list.json().total).toBe(2)
    expect(list.json().items.map((c: { client_id: string }) => c.client_id)).toEqual([
      'keygate',
      created.client_id,
    ])
    expect(list.body).not.toContain(created.client_secret)
  })

  it('a public client has no secret; rotating one is 409', async () => {
    const { app, admin } = await buildAdminApp()
    const spa = await registerClient(app, admin.headers, {
      name: 'SPA',
      type: 'public',
      redirect_uris: ['https://spa.example.com/cb'],
    })
    expect(spa).not.toHaveProperty('client_secret')
    const rotate = await app.inject({
      method: 'POST',
      url: `${CLIENTS}/${spa.client_id}/secret`,
      headers: admin.headers,
    })
    expect(rotate.statusCode).toBe(409)
    expect(rotate.json()).toEqual({ detail: 'A public client has no secret' })
  })

  it('PATCH changes settings under the registration rules; 404 for an unknown id', async () => {
    const { app, admin } = await buildAdminApp()
    const web = await registerClient(app, admin.headers, WEB)
    const url = `${CLIENTS}/${web.client_id}`
    const patch = (payload: object, at = url) =>
      app.inject({ method: 'PATCH', url: at, headers: admin.headers, payload })
    const ok = await patch({
      name: 'Renamed',
      redirect_uris: ['https://app.example.com/cb2', 'http://127.0.0.1/cb'],
      first_party: true,
      grant_types: ['authorization_code', 'refresh_token', 'password', 'client_credentials'],
    })
    expect(ok.statusCode, ok.body).toBe(200)
    expect(ok.json()).toMatchObject({
      name: 'Renamed',
      type: 'confidential',
      first_party: true,
      redirect_uris: ['https://app.example.com/cb2', 'http://127.0.0.1/cb'],
    })
    expect(ok.json()).not.toHaveProperty('client_secret')
    // The merged result is checked: password without first_party.
    const bad = await patch({ first_party: false })
    expect(bad.statusCode).toBe(422)
    expect(bad.json().detail[0].loc).toEqual(['body', 'grant_types'])
    const badUri = await patch({ redirect_uris: ['http://example.com/cb'] })
    expect(badUri.statusCode).toBe(422)
    expect(badUri.json().detail[0].loc).toEqual(['body', 'redirect_uris', 0])
    expect((await app.inject({ url, headers: admin.headers })).json().name).toBe('Renamed')
    expect((await patch({ name: 'x' }, `${CLIENTS}/unknown-client`)).statusCode).toBe(404)
    expect((await patch({ name: 'x' }, `${CLIENTS}/bad%00id`)).statusCode).toBe(422)
  })

  it('rotating the secret: the new one works at once, the old one is dead', async () => {
    const { app, admin } = await buildAdminApp()
    const svc = await registerClient(app, admin.headers, {
      name: 'Service',
      type: 'confidential',
      grant_types: ['client_credentials'],
    })
    const cc = (secret: string) =>
      app.inject(
        tokenRequest({ grant_type: 'client_credentials' }, basicAuth(svc.client_id, secret)),
      )
    expect((await cc(svc.client_secret as string)).statusCode).toBe(200)
    const rotated = await app.inject({
      method: 'POST',
      url: `${CLIENTS}/${svc.client_id}/secret`,
      headers: admin.headers,
    })
    expect(rotated.statusCode).toBe(200)
    expect(rotated.headers['cache-control']).toBe('no-store')
    const fresh = rotated.json().client_secret as string
    expect(fresh).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(fresh).not.toBe(svc.client_secret)
    expect((await cc(svc.client_secret as string)).statusCode).toBe(401)
    expect((await cc(fresh)).statusCode).toBe(200)
  })

  it('the built-in client is listed, readable, and cannot be changed, deleted or rotated (409)', async () => {
    const { app, admin } = await buildAdminApp()
    const builtin = await app.inject({ url: `${CLIENTS}/keygate`, headers: admin.headers })
    expect(builtin.statusCode).toBe(200)
    expect(builtin.json()).toMatchObject({
      client_id: 'keygate',
      type: 'public',
      first_party: true,
      grant_types: ['password', 'refresh_token'],
    })
    expect(builtin.json().scopes).toEqual(
      expect.arrayContaining(['openid', 'profile', 'email', 'offline_access']),
    )
    const detail = 'The built-in client keygate cannot be changed or deleted'
    for (const call of [
      { method: 'PATCH', url: `${CLIENTS}/keygate`, payload: { name: 'Mine now' } },
      { method: 'DELETE', url: `${CLIENTS}/keygate` },
      { method: 'POST', url: `${CLIENTS}/keygate/secret` },
    ] as const) {
      const res = await app.inject({ ...call, headers: admin.headers })
      expect(res.statusCode, call.method).toBe(409)
      expect(res.json()).toEqual({ detail })
    }
    // Still there and still works for the password grant.
    const user = await createUser(app)
    await loginAs(app, user)
  })

  it('deleting a client revokes every token issued to it, in one go', async () => {
    const { app, admin } = await buildAdminApp()
    const first = await registerClient(app, admin.headers, {
      ...WEB,
      first_party: true,
      grant_types: ['password', 'refresh_token', 'client_credentials'],
    })
    const secret = first.client_secret as string
    const user = await createUser(app)
    const login = await app.inject(
      tokenRequest(
        { username: user.email, password: user.password },
        basicAuth(first.client_id, secret),
      ),
    )
    expect(login.statusCode, login.body).toBe(200)
    const userToken = { authorization: `Bearer ${login.json().access_token}` }
    const cc = await app.inject(
      tokenRequest({ grant_type: 'client_credentials' }, basicAuth(first.client_id, secret)),
    )
    const clientToken = { authorization: `Bearer ${cc.json().access_token}` }
    // Another client's and the built-in client's sessions are untouched.
    const other = await loginAs(app, user)

    expect((await app.inject({ url: '/api/v1/users/me', headers: userToken })).statusCode).toBe(200)
    expect((await app.inject({ url: '/api/v1/users/me', headers: clientToken })).statusCode).toBe(
      403,
    )
    const del = await app.inject({
      method: 'DELETE',
      url: `${CLIENTS}/${first.client_id}`,
      headers: admin.headers,
    })
    expect(del.statusCode).toBe(204)
    expect((await app.inject({ url: '/api/v1/users/me', headers: userToken })).statusCode).toBe(401)
    const dead = await app.inject({ url: '/api/v1/users/me', headers: clientToken })
    expect(dead.statusCode).toBe(401)
    expect(dead.json()).toEqual({ detail: 'Could not validate credentials' })
    const refresh = await app.inject(
      tokenRequest({ grant_type: 'refresh_token', refresh_token: login.json().refresh_token }),
    )
    expect(refresh.statusCode).toBe(400)
    expect((await app.inject({ url: '/api/v1/users/me', headers: other.headers })).statusCode).toBe(
      200,
    )
    const gone = await app.inject({ url: `${CLIENTS}/${first.client_id}`, headers: admin.headers })
    expect(gone.statusCode).toBe(404)
    expect(gone.json()).toEqual({ detail: 'Client not found' })
    const again = await app.inject({
      method: 'DELETE',
      url: `${CLIENTS}/${first.client_id}`,
      headers: admin.headers,
    })
    expect(again.statusCode).toBe(404)
  })
})

describe('clients API: registration rules (422)', () => {
  const cases: [string, Record<string, unknown>, (string | number)[], string?][] = [
    ['missing redirect_uris', { name: 'A', type: 'public' }, ['body', 'redirect_uris'], 'missing'],
    [
      'empty redirect_uris',
      { name: 'A', type: 'public', redirect_uris: [] },
      ['body', 'redirect_uris'],
      'missing',
    ],
    [
      'http on a DNS name',
      { name: 'A', type: 'public', redirect_uris: ['http://app.example.com/cb'] },
      ['body', 'redirect_uris', 0],
    ],
    [
      'http on localhost',
      { name: 'A', type: 'public', redirect_uris: ['http://localhost:3000/cb'] },
      ['body', 'redirect_uris', 0],
    ],
    [
      'a fragment',
      {
        name: 'A',
        type: 'public',
        redirect_uris: ['https://a.example.com/cb', 'https://a.example.com/cb#x'],
      },
      ['body', 'redirect_uris', 1],
    ],
    [
      'a wildcard',
      { name: 'A', type: 'public', redirect_uris: ['https://*.example.com/cb'] },
      ['body', 'redirect_uris', 0],
    ],
    [
      'a relative URI',
      { name: 'A', type: 'public', redirect_uris: ['/cb'] },
      ['body', 'redirect_uris', 0],
    ],
    [
      'javascript:',
      { name: 'A', type: 'public', redirect_uris: ['javascript:alert(1)'] },
      ['body', 'redirect_uris', 0],
    ],
    [
      'a bad post-logout URI',
      {
        name: 'A',
        type: 'public',
        redirect_uris: ['https://a.example.com/cb'],
        post_logout_redirect_uris: ['http://a.example.com/bye'],
      },
      ['body', 'post_logout_redirect_uris', 0],
    ],
    [
      'client_credentials on a public client',
      { name: 'A', type: 'public', grant_types: ['client_credentials'] },
      ['body', 'grant_types'],
    ],
    [
      'password for a third-party client',
      { ...WEB, grant_types: ['password'] },
      ['body', 'grant_types'],
    ],
    ['an unknown grant', { ...WEB, grant_types: ['implicit'] }, ['body', 'grant_types', 0]],
    ['an unknown scope', { ...WEB, scopes: ['openid', 'root'] }, ['body', 'scopes', 1]],
    ['an unknown type', { ...WEB, type: 'secret' }, ['body', 'type']],
    ['an empty name', { ...WEB, name: '' }, ['body', 'name']],
  ]
  for (const [name, payload, loc, type] of cases) {
    it(name, async () => {
      const { app, admin } = await buildAdminApp()
      const res = await app.inject({
        method: 'POST',
        url: CLIENTS,
        headers: admin.headers,
        payload,
      })
      expect(res.statusCode, res.body).toBe(422)
      const detail = res.json().detail as { loc: (string | number)[]; type: string }[]
      expect(detail.map((d) => d.loc)).toContainEqual(loc)
      if (type) expect(detail[0]?.type).toBe(type)
      // The submitted URI is never echoed.
      for (const uri of [...((payload.redirect_uris as string[]) ?? [])]) {
        expect(res.body).not.toContain(uri)
      }
    })
  }

  it('accepted: https, loopback http with or without a port, [::1], custom schemes; client_credentials needs none', async () => {
    const { app, admin } = await buildAdminApp()
    const uris = [
      'https://app.example.com/cb?x=1',
      'http://127.0.0.1/cb',
      'http://127.0.0.1:8080/cb',
      'http://[::1]/cb',
      'com.example.app:/oauth2redirect',
      'myapp://callback',
    ]
    const client = await registerClient(app, admin.headers, {
      name: 'Native',
      type: 'public',
      redirect_uris: uris,
      post_logout_redirect_uris: ['https://app.example.com/bye'],
    })
    expect(client.redirect_uris).toEqual(uris)
    const service = await registerClient(app, admin.headers, {
      name: 'Service',
      type: 'confidential',
      grant_types: ['client_credentials'],
    })
    expect(service.redirect_uris).toEqual([])
  })
})
