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

describe('discovery: /.well-known/openid-configuration and oauth-authorization-server', () => {
  it('serves one document under both names: issuer, every endpoint, what is supported', async () => {
    const { app } = await buildTestApp({
      publicUrl: 'https://auth.example.com',
      jwtIssuer: 'https://auth.example.com',
    })
    const oidc = await app.inject({ method: 'GET', url: '/.well-known/openid-configuration' })
    const rfc8414 = await app.inject({
      method: 'GET',
      url: '/.well-known/oauth-authorization-server',
    })
    expect(oidc.statusCode).toBe(200)
    expect(rfc8414.json()).toEqual(oidc.json())
    const base = 'https://auth.example.com'
    expect(oidc.json()).toMatchObject({
      issuer: base,
      authorization_endpoint: `${base}/oauth/authorize`,
      token_endpoint: `${base}/api/v1/auth/token`,
      userinfo_endpoint: `${base}/oauth/userinfo`,
      end_session_endpoint: `${base}/oauth/logout`,
      jwks_uri: `${base}/.well-known/jwks.json`,
      revocation_endpoint: `${base}/api/v1/auth/revoke`,
      introspection_endpoint: `${base}/api/v1/auth/introspect`,
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      grant_types_supported: [
        'authorization_code',
        'refresh_token',
        'client_credentials',
        'password',
        'urn:keygate:params:oauth:grant-type:mfa',
      ],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
      scopes_supported: [
        'openid',
        'profile',
        'email',
        'offline_access',
        'posts:write',
        'account',
        'admin',
      ],
      subject_types_supported: ['public'],
      // HS256 access tokens, but ID tokens are always asymmetric (OIDC Core §15.1).
      id_token_signing_alg_values_supported: ['RS256'],
      authorization_response_iss_parameter_supported: true,
      prompt_values_supported: ['none', 'login', 'consent'],
      request_uri_parameter_supported: false,
    })
    expect(oidc.json().claims_supported).toEqual(
      expect.arrayContaining([
        'sub',
        'auth_time',
        'nonce',
        'sid',
        'amr',
        'email',
        'email_verified',
      ]),
    )
  })

  it('with HS256 publishes only the RS256 ID-token keys, never the secret', async () => {
    const { app } = await buildTestApp({ dataDir: tempDataDir() })
    const keys = await jwks(app)
    expect(keys).toHaveLength(2)
    for (const k of keys) {
      expect(k).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' })
      expect(k).not.toHaveProperty('d')
      expect(k).not.toHaveProperty('k')
    }
  })

  it('with an asymmetric algorithm the access-token keys sign ID tokens too', async () => {
    const { app } = await buildTestApp({ jwtAlgorithm: 'EdDSA', dataDir: tempDataDir() })
    const m = (await app.inject({ method: 'GET', url: '/.well-known/openid-configuration' })).json()
    expect(m.jwks_uri).toBe(`${m.issuer}/.well-known/jwks.json`)
    expect(m.id_token_signing_alg_values_supported).toEqual(['EdDSA'])
    expect((await jwks(app)).map((k) => k.alg)).toEqual(['EdDSA', 'EdDSA'])
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
