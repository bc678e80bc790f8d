import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { authorizeUrl, oidcSetup, pkce, REDIRECT, redirectQuery } from '../helpers/oidc.js'
import { pageClient, signInPage } from '../helpers/pages.js'

const ISSUER = 'http://127.0.0.1:8000'

function request(clientId: string, over: Record<string, string> = {}) {
  const { challenge } = pkce()
  return {
    client_id: clientId,
    redirect_uri: REDIRECT,
    response_type: 'code',
    scope: 'openid profile',
    state: 'xyz-state',
    nonce: 'n-1',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...over,
  }
}

describe('GET /oauth/authorize', () => {
  it('answers an unknown client and an unregistered redirect URI with a 400 page, never a redirect', async () => {
    const { browser, client } = await oidcSetup()
    for (const params of [
      request('no-such-client'),
      request(client.client_id, { redirect_uri: 'https://evil.example/callback' }),
      request(client.client_id, { redirect_uri: `${REDIRECT}/` }),
    ]) {
      const res = await browser.get(authorizeUrl(params))
      expect(res.statusCode).toBe(400)
      expect(res.headers.location).toBeUndefined()
      expect(res.headers['content-type']).toMatch(/^text\/html/)
      // No clickjacking: the page may not be framed.
      expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'")
      expect(res.body).not.toContain('evil.example')
    }
  })

  it('refuses missing or plain PKCE back to the client, with state and iss (RFC 9207)', async () => {
    const { browser, client } = await oidcSetup()
    const { code_challenge: _, ...noPkce } = request(client.client_id)
    for (const params of [noPkce, request(client.client_id, { code_challenge_method: 'plain' })]) {
      const { url, query } = redirectQuery(await browser.get(authorizeUrl(params)))
      expect(`${url.origin}${url.pathname}`).toBe(REDIRECT)
      expect(query).toMatchObject({ error: 'invalid_request', state: 'xyz-state', iss: ISSUER })
      expect(query.code).toBeUndefined()
    }
    const { query } = redirectQuery(
      await browser.get(authorizeUrl(request(client.client_id, { response_type: 'token' }))),
    )
    expect(query).toMatchObject({ error: 'unsupported_response_type', state: 'xyz-state' })
  })

  it('issues a code with state and iss to a signed-in browser', async () => {
    const { app, browser, client } = await oidcSetup()
    const res = await browser.get(authorizeUrl(request(client.client_id)))
    expect(res.statusCode).toBe(302)
    expect(res.headers['cache-control']).toBe('no-store')
    const { url, query } = redirectQuery(res)
    expect(`${url.origin}${url.pathname}`).toBe(REDIRECT)
    expect(Object.keys(query).sort()).toEqual(['code', 'iss', 'state'])
    expect(query).toMatchObject({ state: 'xyz-state', iss: ISSUER })
    expect(query.code).toMatch(/^[A-Za-z0-9_-]{43}$/)
    // A HEAD (a prefetch, a link preview) mints nothing.
    const head = await app.inject({
      method: 'HEAD',
      url: authorizeUrl(request(client.client_id)),
      headers: { cookie: browser.jar.header() },
    })
    expect(head.statusCode).toBeGreaterThanOrEqual(400)
    expect(head.headers.location).toBeUndefined()
  })

  it('also takes the request as a POST form (OIDC Core §3.1.2.1)', async () => {
    const { app, browser, client } = await oidcSetup()
    const res = await app.inject({
      method: 'POST',
      url: '/oauth/authorize',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        cookie: browser.jar.header(),
        origin: 'https://app.example.com',
      },
      payload: new URLSearchParams(request(client.client_id)).toString(),
    })
    expect(res.statusCode).toBe(303)
    expect(redirectQuery(res).query.code).toBeTypeOf('string')
  })

  it('sends a browser without a session to the sign-in page and back, login_hint carried', async () => {
    const { app, client, user, config } = await oidcSetup()
    const fresh = pageClient(app, config.publicUrl)
    const params = request(client.client_id, { login_hint: user.email })
    const res = await fresh.get(authorizeUrl(params))
    const { url, query } = redirectQuery(res)
    expect(url.pathname).toBe('/signin')
    expect(query.login_hint).toBe(user.email)
    const returnTo = new URL(query.return_to!, 'http://x')
    expect(returnTo.pathname).toBe('/oauth/authorize')
    expect(Object.fromEntries(returnTo.searchParams)).toEqual(params)
    // After the sign-in the same request gets its code.
    await signInPage(fresh, user)
    expect(redirectQuery(await fresh.get(query.return_to!)).query.code).toBeTypeOf('string')
  })

  it('prompt=none without a session is login_required, back to the client', async () => {
    const { app, client, config } = await oidcSetup()
    const fresh = pageClient(app, config.publicUrl)
    const { query } = redirectQuery(
      await fresh.get(authorizeUrl(request(client.client_id, { prompt: 'none' }))),
    )
    expect(query).toMatchObject({ error: 'login_required', state: 'xyz-state', iss: ISSUER })
  })

  it('prompt=login and an exceeded max_age ask for a new sign-in before any code', async () => {
    const { browser, client, user, clock } = await oidcSetup()
    for (const over of [{ prompt: 'login' }, { max_age: '60' }, { max_age: '0' }] as Record<
      string,
      string
    >[]) {
      clock.advanceSeconds(120)
      const { url, query } = redirectQuery(
        await browser.get(authorizeUrl(request(client.client_id, over))),
      )
      expect(url.pathname).toBe('/signin')
      // Coming back without signing in again does not pass.
      const back = redirectQuery(await browser.get(query.return_to!))
      expect(back.url.pathname).toBe('/signin')
      await signInPage(browser, user)
      // The way back takes time: max_age=0 must not send the browser round again.
      clock.advanceSeconds(1)
      expect(redirectQuery(await browser.get(query.return_to!)).query.code).toBeTypeOf('string')
    }
    // prompt=none cannot sign in: login_required instead.
    clock.advanceSeconds(120)
    const { query } = redirectQuery(
      await browser.get(authorizeUrl(request(client.client_id, { prompt: 'none', max_age: '60' }))),
    )
    expect(query.error).toBe('login_required')
  })

  it('refuses an unknown scope with invalid_scope', async () => {
    const { browser, client } = await oidcSetup()
    const { query } = redirectQuery(
      await browser.get(authorizeUrl(request(client.client_id, { scope: 'openid root' }))),
    )
    expect(query).toMatchObject({ error: 'invalid_scope', state: 'xyz-state' })
  })
})

describe('GET /oauth/authorize (properties)', () => {
  it('whatever the parameters: no 5xx, and a redirect only to the registered URI or Keygate', async () => {
    const { browser, client } = await oidcSetup()
    const value = fc.oneof(
      fc.constantFrom(
        'code',
        'token',
        'S256',
        'plain',
        'none',
        'login',
        'openid',
        REDIRECT,
        client.client_id,
        'https://evil.example/',
      ),
      fc.string({ maxLength: 40 }),
    )
    const name = fc.constantFrom(
      'client_id',
      'redirect_uri',
      'response_type',
      'scope',
      'state',
      'nonce',
      'prompt',
      'max_age',
      'code_challenge',
      'code_challenge_method',
      'response_mode',
      'auth_after',
    )
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(name, value), { maxLength: 8 }),
        fc.boolean(),
        async (pairs, base) => {
          const query = new URLSearchParams(base ? request(client.client_id) : {})
          for (const [k, v] of pairs) query.append(k, v)
          const res = await browser.get(`/oauth/authorize?${query}`)
          expect(res.statusCode).toBeLessThan(500)
          if (res.statusCode === 400) expect(res.headers.location).toBeUndefined()
          if (res.statusCode !== 302) return
          const to = new URL(String(res.headers.location), 'http://127.0.0.1:8000')
          const target = `${to.origin}${to.pathname}`
          expect([REDIRECT, 'http://127.0.0.1:8000/signin']).toContain(target)
          // Empty values count as absent (RFC 6749 §3.1).
          if (target === REDIRECT) {
            expect(query.getAll('redirect_uri').filter((v) => v !== '')).toEqual([REDIRECT])
          }
        },
      ),
      { numRuns: 60 },
    )
  }, 120_000)
})
