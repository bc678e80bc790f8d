import { decodeProtectedHeader, importJWK, jwtVerify } from 'jose'
import { describe, expect, it } from 'vitest'
import { rotateKeys } from '../../src/services/keys/signing-keys.js'
import { buildTestApp } from '../helpers/app.js'
import { createUser, loginAs } from '../helpers/factories.js'
import { tempDataDir } from '../helpers/server.js'

type App = Awaited<ReturnType<typeof buildTestApp>>['app']

const jwks = async (app: App) =>
  (await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json().keys as {
    kid: string
    [k: string]: unknown
  }[]

const me = (app: App, access: string) =>
  app.inject({
    method: 'GET',
    url: '/api/v1/users/me',
    headers: { authorization: `Bearer ${access}` },
  })

describe('/.well-known/oauth-authorization-server (RFC 8414)', () => {
  it('names the issuer and every endpoint; no jwks_uri with HS256', async () => {
    const { app } = await buildTestApp({
      publicUrl: 'https://auth.example.com',
      jwtIssuer: 'https://auth.example.com',
    })
    const res = await app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' })
    expect(res.statusCode).toBe(200)
    const m = res.json()
    expect(m).toMatchObject({
      issuer: 'https://auth.example.com',
      token_endpoint: 'https://auth.example.com/api/v1/auth/token',
      revocation_endpoint: 'https://auth.example.com/api/v1/auth/revoke',
      introspection_endpoint: 'https://auth.example.com/api/v1/auth/introspect',
      grant_types_supported: [
        'password',
        'refresh_token',
        'urn:keygate:params:oauth:grant-type:mfa',
      ],
      response_types_supported: [],
      token_endpoint_auth_methods_supported: ['none'],
    })
    expect(m.jwks_uri).toBeUndefined()
    const keys = await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })
    expect(keys.json()).toEqual({ keys: [] })
  })

  it('publishes jwks_uri with an asymmetric algorithm', async () => {
    const { app } = await buildTestApp({ jwtAlgorithm: 'EdDSA', dataDir: tempDataDir() })
    const m = (
      await app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' })
    ).json()
    expect(m.jwks_uri).toBe(`${m.issuer}/.well-known/jwks.json`)
  })
})

describe('asymmetric signing', () => {
  for (const alg of ['EdDSA', 'ES256', 'RS256'] as const) {
    it(`${alg}: tokens carry a kid that /.well-known/jwks.json publishes, without private parts`, async () => {
      const { app, config, clock } = await buildTestApp({
        jwtAlgorithm: alg,
        dataDir: tempDataDir(),
      })
      const { tokens } = await loginAs(app, await createUser(app))
      const header = decodeProtectedHeader(tokens.access_token)
      expect(header).toMatchObject({ alg, typ: 'at+jwt' })
      const keys = await jwks(app)
      // The signing key and the pending one, published ahead of the next rotation.
      expect(keys).toHaveLength(2)
      const jwk = keys.find((k) => k.kid === header.kid)
      expect(jwk).toMatchObject({ alg, use: 'sig' })
      for (const k of keys) {
        for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'iat', 'pending'])
          expect(k).not.toHaveProperty(member)
      }
      const { payload } = await jwtVerify(tokens.access_token, await importJWK(jwk!, alg), {
        issuer: config.jwtIssuer,
        audience: 'keygate',
        currentDate: clock.now(),
      })
      expect(payload.sid).toBeTypeOf('string')
      expect((await me(app, tokens.access_token)).statusCode).toBe(200)
    })
  }

  it('after a rotation new tokens use the new key and old ones keep verifying', async () => {
    const { app, config } = await buildTestApp({ jwtAlgorithm: 'EdDSA', dataDir: tempDataDir() })
    const user = await createUser(app)
    const before = (await loginAs(app, user)).tokens.access_token
    const published = (await jwks(app)).map((k) => k.kid)
    const { kid, next } = await rotateKeys(config)
    const after = (await loginAs(app, user)).tokens.access_token
    const oldKid = decodeProtectedHeader(before).kid
    expect(decodeProtectedHeader(after).kid).toBe(kid)
    expect(kid).not.toBe(oldKid)
    // The key that signs now was already published before the rotation.
    expect(published).toEqual([kid, oldKid])
    expect((await jwks(app)).map((k) => k.kid)).toEqual([next, kid, oldKid])
    expect((await me(app, before)).statusCode).toBe(200)
    expect((await me(app, after)).statusCode).toBe(200)
  })

  it('an HS256 token is refused by an EdDSA server, and vice versa', async () => {
    const hs = await buildTestApp()
    const ed = await buildTestApp({ jwtAlgorithm: 'EdDSA', dataDir: tempDataDir() })
    const hsToken = (await loginAs(hs.app, await createUser(hs.app))).tokens.access_token
    const edToken = (await loginAs(ed.app, await createUser(ed.app))).tokens.access_token
    expect((await me(ed.app, hsToken)).statusCode).toBe(401)
    expect((await me(hs.app, edToken)).statusCode).toBe(401)
  })

  it('keeps its generated key across restarts in DATA_DIR', async () => {
    const dataDir = tempDataDir()
    const a = await buildTestApp({ jwtAlgorithm: 'EdDSA', dataDir })
    const b = await buildTestApp({ jwtAlgorithm: 'EdDSA', dataDir })
    expect((await jwks(a.app)).map((k) => k.kid)).toEqual((await jwks(b.app)).map((k) => k.kid))
  })
})
