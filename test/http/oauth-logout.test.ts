import { describe, expect, it } from 'vitest'
import {
  AFTER_LOGOUT,
  authorizeUrl,
  exchangeCode,
  getCode,
  oidcSetup,
  pkce,
  REDIRECT,
  redirectQuery,
} from '../helpers/oidc.js'
import { pageClient, signInPage } from '../helpers/pages.js'

const logoutUrl = (params: Record<string, string>) => `/oauth/logout?${new URLSearchParams(params)}`

/** A signed-in browser's tokens for the client: the ID token and the access token. */
async function signedInApp(t: Awaited<ReturnType<typeof oidcSetup>>) {
  const { code, verifier } = await getCode(t.browser, t.client.client_id)
  const res = await exchangeCode(t.app, {
    code,
    code_verifier: verifier,
    client_id: t.client.client_id,
  })
  return res.json() as { id_token: string; access_token: string }
}

const meStatus = async (t: Awaited<ReturnType<typeof oidcSetup>>, access: string) =>
  (
    await t.app.inject({
      method: 'GET',
      url: '/api/v1/users/me',
      headers: { authorization: `Bearer ${access}` },
    })
  ).statusCode

describe('RP-initiated logout (/oauth/logout)', () => {
  it('with a valid id_token_hint ends the browser session and its apps at once, then returns with state', async () => {
    const t = await oidcSetup()
    const tokens = await signedInApp(t)
    const other = pageClient(t.app, t.config.publicUrl)
    await signInPage(other, t.user)
    const res = await t.browser.get(
      logoutUrl({
        id_token_hint: tokens.id_token,
        post_logout_redirect_uri: AFTER_LOGOUT,
        state: 'bye-state',
      }),
    )
    const { url, query } = redirectQuery(res)
    expect(`${url.origin}${url.pathname}`).toBe(AFTER_LOGOUT)
    expect(query).toEqual({ state: 'bye-state' })
    expect(await meStatus(t, tokens.access_token)).toBe(401)
    // This browser must sign in again; the other browser keeps its session.
    const again = redirectQuery(
      await t.browser.get(
        authorizeUrl({
          client_id: t.client.client_id,
          redirect_uri: REDIRECT,
          response_type: 'code',
          code_challenge: pkce().challenge,
          code_challenge_method: 'S256',
        }),
      ),
    )
    expect(again.url.pathname).toBe('/signin')
    expect((await getCode(other, t.client.client_id)).code).toBeTypeOf('string')
  })

  it('follows only a registered post_logout_redirect_uri, else shows the signed-out page', async () => {
    const t = await oidcSetup()
    const tokens = await signedInApp(t)
    const res = await t.browser.get(
      logoutUrl({
        id_token_hint: tokens.id_token,
        post_logout_redirect_uri: 'https://evil.example/',
      }),
    )
    expect(res.statusCode).toBe(302)
    expect(res.headers.location).toBe('/signed-out')
    expect(await meStatus(t, tokens.access_token)).toBe(401)
  })

  it('without a valid hint asks first, behind the CSRF token, then signs out', async () => {
    const t = await oidcSetup()
    const tokens = await signedInApp(t)
    const params = {
      client_id: t.client.client_id,
      post_logout_redirect_uri: AFTER_LOGOUT,
      state: 's2',
    }
    for (const hint of [undefined, 'not-a-token', `${tokens.id_token.slice(0, -2)}xx`]) {
      const page = await t.browser.get(
        logoutUrl({ ...params, ...(hint && { id_token_hint: hint }) }),
      )
      expect(page.statusCode).toBe(200)
      expect(page.body).toContain('Example App')
      expect(page.body).toContain('name="csrf_token"')
      expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'")
      expect(await meStatus(t, tokens.access_token)).toBe(200)
    }
    const forged = await t.browser.post('/oauth/logout/confirm', params, { csrf: null })
    expect(forged.statusCode).toBe(403)
    expect(await meStatus(t, tokens.access_token)).toBe(200)
    const res = await t.browser.post('/oauth/logout/confirm', params, {
      from: logoutUrl(params),
    })
    expect(res.statusCode).toBe(303)
    expect(res.headers.location).toBe(`${AFTER_LOGOUT}?state=s2`)
    expect(await meStatus(t, tokens.access_token)).toBe(401)
  })

  it('a POST from the relying party with a hint signs out too', async () => {
    const t = await oidcSetup()
    const tokens = await signedInApp(t)
    const res = await t.app.inject({
      method: 'POST',
      url: '/oauth/logout',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        cookie: t.browser.jar.header(),
        origin: 'https://app.example.com',
      },
      payload: new URLSearchParams({ id_token_hint: tokens.id_token }).toString(),
    })
    expect(res.statusCode).toBe(303)
    expect(res.headers.location).toBe('/signed-out')
    expect(await meStatus(t, tokens.access_token)).toBe(401)
  })
})
