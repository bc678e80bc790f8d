import { describe, expect, it, onTestFinished } from 'vitest'
import { createDeps } from '../../src/deps.js'
import { meStatus } from '../helpers/accounts.js'
import { buildTestApp } from '../helpers/app.js'
import { createUser } from '../helpers/factories.js'
import { pageClient, signInPage } from '../helpers/pages.js'

const ORIGIN = 'http://localhost:8000'

/** A signed-in browser whose user consented to one app, which holds a token. */
async function setup() {
  const t = await buildTestApp({ publicUrl: ORIGIN })
  const deps = await createDeps(t.config, { database: t.database, clock: t.clock })
  onTestFinished(() => deps.close())
  const user = await createUser(t.app)
  const { client } = await deps.services.clients.create({
    name: 'Acme <Notes>',
    type: 'public',
    redirect_uris: ['https://app.example.com/cb'],
  })
  await deps.services.consents.grant(user, client, ['openid', 'email'])
  const pair = await deps.services.auth.login(user.email, user.password, {
    clientId: client.client_id,
  })
  const browser = pageClient(t.app, ORIGIN)
  await signInPage(browser, user)
  return {
    ...t,
    deps,
    user,
    client,
    browser,
    appHeaders: { authorization: `Bearer ${pair.access_token}` },
  }
}

describe('account page: connected apps', () => {
  it('lists each app with what it may do, escaped, and a Remove form', async () => {
    const { browser } = await setup()
    const page = await browser.get('/account')
    expect(page.statusCode).toBe(200)
    expect(page.body).toContain('Connected apps')
    // Escaped by the renderer (Preact escapes `<` in text, enough to open no tag).
    expect(page.body).toContain('<strong>Acme &lt;Notes>')
    expect(page.body).not.toContain('<Notes>')
    expect(page.body).toContain('Sign you in with your Keygate account')
    expect(page.body).toContain('See your email address and whether it is verified')
    expect(page.body).toMatch(/action="\/account\/apps\/[^"]+\/remove"/)
  })

  it('Remove withdraws consent and kills the app’s tokens at once', async () => {
    const { app, browser, client, appHeaders, deps, user } = await setup()
    expect(await meStatus(app, appHeaders)).toBe(200)
    const res = await browser.post(
      `/account/apps/${client.client_id}/remove`,
      {},
      { from: '/account' },
    )
    expect(res.statusCode).toBe(303)
    expect(res.headers.location).toBe('/account?done=app')
    expect(await meStatus(app, appHeaders)).toBe(401)
    expect(await deps.services.consents.list(user)).toEqual([])
    const after = await browser.get('/account?done=app')
    expect(after.body).toContain('That app no longer has access to your account.')
    expect(after.body).toContain('No app has access to your account.')
    // Removing it again: the 404 page.
    const again = await browser.post(
      `/account/apps/${client.client_id}/remove`,
      {},
      { from: '/account' },
    )
    expect(again.statusCode).toBe(404)
    expect(again.headers['content-type']).toContain('text/html')
  })

  it('refuses a post without the CSRF token or from another origin; a signed-out browser signs in', async () => {
    const { app, browser, client, appHeaders } = await setup()
    const url = `/account/apps/${client.client_id}/remove`
    expect((await browser.post(url, {}, { from: '/account', csrf: null })).statusCode).toBe(403)
    const cross = await browser.post(url, {}, { from: '/account', origin: 'https://evil.example' })
    expect(cross.statusCode).toBe(403)
    const stranger = pageClient(app, ORIGIN)
    const out = await stranger.post(url, {}, { from: '/signin' })
    expect(out.statusCode).toBe(303)
    expect(out.headers.location).toBe('/signin?return_to=%2Faccount')
    expect(await meStatus(app, appHeaders)).toBe(200)
  })
})
