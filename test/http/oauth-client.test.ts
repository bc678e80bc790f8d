import * as oauth from 'oauth4webapi'
import { describe, expect, it } from 'vitest'
import { createUser } from '../helpers/factories.js'
import { listeningApp, tempDataDir } from '../helpers/server.js'

const SECRET = 'introspection-secret-of-at-least-32-bytes!'
const insecure = { [oauth.allowInsecureRequests]: true } // the test server speaks http

/** How a resource server authenticates to the introspection endpoint: the shared secret as a bearer. */
const introspectionSecretAuth: oauth.ClientAuth = (_as, _client, _body, headers) => {
  headers.set('authorization', `Bearer ${SECRET}`)
}

/** A standard OAuth client that knows nothing but the base URL. */
async function discover(base: string) {
  const issuer = new URL(base)
  const res = await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure })
  return oauth.processDiscoveryResponse(issuer, res)
}

describe('oauth4webapi against a running Keygate', () => {
  for (const alg of ['HS256', 'EdDSA'] as const) {
    it(`${alg}: discovers, logs in, refreshes, introspects and revokes`, async () => {
      const { app, base } = await listeningApp({
        introspectionSecret: SECRET,
        jwtAlgorithm: alg,
        dataDir: tempDataDir(),
      })
      const user = await createUser(app)
      const as = await discover(base)
      expect(as.issuer).toBe(base)
      const client: oauth.Client = { client_id: 'keygate' }
      const none = oauth.None()

      const login = await oauth.processGenericTokenEndpointResponse(
        as,
        client,
        await oauth.genericTokenEndpointRequest(
          as,
          client,
          none,
          'password',
          { username: user.email, password: user.password },
          insecure,
        ),
      )
      expect(login.token_type).toBe('bearer')
      expect(login.refresh_token).toBeTypeOf('string')

      const refreshed = await oauth.processRefreshTokenResponse(
        as,
        client,
        await oauth.refreshTokenGrantRequest(as, client, none, login.refresh_token!, insecure),
      )
      expect(refreshed.refresh_token).not.toBe(login.refresh_token)

      const introspect = async (token: string) =>
        oauth.processIntrospectionResponse(
          as,
          client,
          await oauth.introspectionRequest(as, client, introspectionSecretAuth, token, insecure),
        )
      const live = await introspect(refreshed.access_token)
      expect(live).toMatchObject({ active: true, sub: user.id, client_id: 'keygate', iss: base })

      if (alg === 'EdDSA') {
        // A resource server validating the RFC 9068 token through jwks_uri alone.
        const request = new Request(`${base}/anything`, {
          headers: { authorization: `Bearer ${refreshed.access_token}` },
        })
        const claims = await oauth.validateJwtAccessToken(as, request, 'keygate', insecure)
        expect(claims.sub).toBe(user.id)
      }

      await oauth.processRevocationResponse(
        await oauth.revocationRequest(as, client, none, refreshed.refresh_token!, insecure),
      )
      expect((await introspect(refreshed.access_token)).active).toBe(false)
      await expect(
        oauth.processRefreshTokenResponse(
          as,
          client,
          await oauth.refreshTokenGrantRequest(
            as,
            client,
            none,
            refreshed.refresh_token!,
            insecure,
          ),
        ),
      ).rejects.toMatchObject({ error: 'invalid_grant' })
    })
  }

  it('a wrong password is a plain invalid_grant the client can read', async () => {
    const { app, base } = await listeningApp()
    const user = await createUser(app)
    const as = await discover(base)
    const client = { client_id: 'keygate' }
    const res = await oauth.genericTokenEndpointRequest(
      as,
      client,
      oauth.None(),
      'password',
      { username: user.email, password: 'wrong-password' },
      insecure,
    )
    await expect(oauth.processGenericTokenEndpointResponse(as, client, res)).rejects.toMatchObject({
      error: 'invalid_grant',
    })
  })
})
