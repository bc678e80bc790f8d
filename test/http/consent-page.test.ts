import { describe, expect, it } from 'vitest'
import {
  authorizeUrl,
  exchangeCode,
  oidcSetup,
  pkce,
  REDIRECT,
  redirectQuery,
} from '../helpers/oidc.js'
import { pageClient, signInPage } from '../helpers/pages.js'

/** A third-party authorization request for the setup's client. */
function request(clientId: string, over: Record<string, string> = {}) {
  const { verifier, challenge } = pkce()
  const params = {
    client_id: clientId,
    redirect_uri: REDIRECT,
    response_type: 'code',
    scope: 'openid email',
    state: 'st-9',
    nonce: 'n-9',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...over,
  }
  return { verifier, url: authorizeUrl(params) }
}

/** Follows the authorization endpoint to the consent page; answers its path and sealed request. */
async function toConsentPage(browser: ReturnType<typeof pageClient>, url: string) {
  const res = await browser.get(url)
  expect(res.statusCode).toBe(302)
  const location = String(res.headers.location)
  const target = new URL(location, 'http://keygate.invalid')
  expect(target.pathname).toMatch(/\/consent$/)
  const path = `${target.pathname}${target.search}`
  const page = await browser.get(path)
  expect(page.statusCode).toBe(200)
  return { path, page, sealed: target.searchParams.get('request') ?? '' }
}

describe('the consent page', () => {
  it('names the client and each scope; one form, allow and deny; CSP lets it reach the client', async () => {
    const { browser, client } = await oidcSetup({}, { name: 'Acme <Notes>' }, { consented: false })
    const { page } = await toConsentPage(browser, request(client.client_id).url)
    const html = page.body
    expect(html).toContain('<strong>Acme &lt;Notes></strong>')
    expect(html).not.toContain('<Notes>')
    expect(html).toContain('See your email address and whether it is verified')
    expect(html).toContain('Sign you in with your Keygate account')
    expect(html).not.toContain('(new)')
    expect(html.match(/<form/g)).toHaveLength(1)
    expect(html).toMatch(/<button[^>]*name="decision"[^>]*value="allow"/)
    expect(html).toMatch(/<button[^>]*name="decision"[^>]*value="deny"/)
    expect(html).toContain('name="csrf_token"')
    expect(page.headers['content-security-policy']).toContain(
      "form-action 'self' https://app.example.com",
    )
  })

  it('deny: back to the client with access_denied, state and iss, and nothing remembered', async () => {
    const { app, browser, client, config } = await oidcSetup({}, {}, { consented: false })
    const first = request(client.client_id)
    const { path, sealed } = await toConsentPage(browser, first.url)
    const res = await browser.post(
      '/consent',
      { request: sealed, decision: 'deny' },
      { from: path },
    )
    expect(res.statusCode).toBe(303)
    const { url, query } = redirectQuery(res)
    expect(`${url.origin}${url.pathname}`).toBe(REDIRECT)
    expect(query).toMatchObject({ error: 'access_denied', state: 'st-9', iss: config.jwtIssuer })
    expect(query.code).toBeUndefined()
    // Still asked next time.
    await toConsentPage(browser, request(client.client_id).url)
    void app
  })

  it('allow: a code whose tokens carry the consented scope, and no refresh token without offline_access', async () => {
    const { app, browser, client } = await oidcSetup({}, {}, { consented: false })
    const flow = request(client.client_id)
    const { path, sealed } = await toConsentPage(browser, flow.url)
    const res = await browser.post(
      '/consent',
      { request: sealed, decision: 'allow' },
      { from: path },
    )
    expect(res.statusCode).toBe(303)
    const { query } = redirectQuery(res)
    expect(query.state).toBe('st-9')
    const tokens = await exchangeCode(app, {
      client_id: client.client_id,
      code: query.code as string,
      code_verifier: flow.verifier,
    })
    expect(tokens.statusCode, tokens.body).toBe(200)
    expect(tokens.json().scope).toBe('openid email')
    expect(tokens.json().refresh_token).toBeUndefined()

    // Remembered: a code at once.
    const again = await browser.get(request(client.client_id).url)
    expect(redirectQuery(again).query.code).toBeTypeOf('string')
    // Widened: asked again.
    await toConsentPage(browser, request(client.client_id, { scope: 'openid email profile' }).url)
    // prompt=none for the wider scope: consent_required.
    const none = await browser.get(
      request(client.client_id, { scope: 'openid profile', prompt: 'none' }).url,
    )
    expect(redirectQuery(none).query).toMatchObject({ error: 'consent_required', state: 'st-9' })
  })

  it('offline_access consented: a refresh token', async () => {
    const { app, browser, client } = await oidcSetup({}, {}, { consented: false })
    const flow = request(client.client_id, { scope: 'openid offline_access' })
    const { path, sealed } = await toConsentPage(browser, flow.url)
    const res = await browser.post(
      '/consent',
      { request: sealed, decision: 'allow' },
      { from: path },
    )
    const tokens = await exchangeCode(app, {
      client_id: client.client_id,
      code: redirectQuery(res).query.code as string,
      code_verifier: flow.verifier,
    })
    expect(tokens.json().scope).toBe('openid offline_access')
    expect(tokens.json().refresh_token).toBeTypeOf('string')
  })

  it('a first-party client is never asked, not even with prompt=consent or prompt=none', async () => {
    const { browser, client } = await oidcSetup({}, { first_party: true }, { consented: false })
    for (const prompt of ['consent', 'none']) {
      const res = await browser.get(request(client.client_id, { prompt }).url)
      expect(redirectQuery(res).query.code, prompt).toBeTypeOf('string')
    }
  })

  it('prompt=consent asks even when all was consented; allowing it then gives a code, not the page again', async () => {
    const { app, browser, client } = await oidcSetup()
    const flow = request(client.client_id, { prompt: 'consent' })
    const { path, sealed, page } = await toConsentPage(browser, flow.url)
    expect(page.body).not.toContain('(new)')
    const res = await browser.post(
      '/consent',
      { request: sealed, decision: 'allow' },
      { from: path },
    )
    const { query } = redirectQuery(res)
    expect(query.state).toBe('st-9')
    const tokens = await exchangeCode(app, {
      client_id: client.client_id,
      code: query.code as string,
      code_verifier: flow.verifier,
    })
    expect(tokens.json().scope).toBe('openid email')
  })

  it('widening marks only the new scopes; admin is never offered to a user who may not hold it', async () => {
    const { browser, client } = await oidcSetup(
      {},
      { scopes: ['openid', 'email', 'posts:write', 'admin'] },
      { consented: false },
    )
    const first = await toConsentPage(browser, request(client.client_id).url)
    await browser.post(
      '/consent',
      { request: first.sealed, decision: 'allow' },
      { from: first.path },
    )
    const wider = request(client.client_id, { scope: 'openid email posts:write admin' })
    const { page } = await toConsentPage(browser, wider.url)
    expect(page.body).toContain('Create, edit and delete your posts (new)')
    expect(page.body).toContain('Sign you in with your Keygate account</li>')
    expect(page.body).not.toContain('Manage every user and client')
  })

  it('refuses a forged, foreign, expired or missing request, a bad decision, and no CSRF token', async () => {
    const { app, browser, client, clock, user, config } = await oidcSetup(
      {},
      {},
      { consented: false },
    )
    const { path, sealed } = await toConsentPage(browser, request(client.client_id).url)
    const post = (fields: Record<string, string>, opts = {}) =>
      browser.post('/consent', fields, { from: path, ...opts })

    const [body, tag] = sealed.split('.') as [string, string]
    const forged = Buffer.from(
      JSON.stringify({
        p: { client_id: [client.client_id], redirect_uri: ['https://evil.example/'] },
        e: 9e9,
      }),
    ).toString('base64url')
    for (const bad of [`${forged}.${tag}`, `${body}.x${tag}`, '', 'junk']) {
      const res = await post({ request: bad, decision: 'allow' })
      expect(res.statusCode).toBe(400)
      expect(res.headers.location).toBeUndefined()
      expect(res.headers['content-type']).toContain('text/html')
    }
    expect((await post({ request: sealed, decision: 'maybe' })).statusCode).toBe(400)
    expect((await post({ request: sealed })).statusCode).toBe(400)
    // Without the page's CSRF token, or from another origin: refused.
    expect((await post({ request: sealed, decision: 'allow' }, { csrf: null })).statusCode).toBe(
      403,
    )
    const cross = await post(
      { request: sealed, decision: 'allow' },
      { origin: 'https://evil.example' },
    )
    expect(cross.statusCode).toBe(403)

    // Another browser of the same user cannot use this page's request.
    const other = pageClient(app, config.publicUrl)
    await signInPage(other, user)
    const foreign = await other.post(
      '/consent',
      { request: sealed, decision: 'allow' },
      { from: '/account' },
    )
    expect(foreign.statusCode).toBe(400)

    // Ten minutes later it has expired.
    clock.advanceSeconds(601)
    const late = await post({ request: sealed, decision: 'allow' }, { from: '/account' })
    expect(late.statusCode).toBe(400)
    expect(late.body).toContain('This request has expired')
    expect((await browser.get(path)).statusCode).toBe(400)
  })
})
