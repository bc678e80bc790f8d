import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import * as oidc from 'openid-client'
import type { BrowserContext, Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { SCOPE_DESCRIPTIONS } from '../../src/domain/scopes.js'
import { ADMIN } from '../helpers/accounts.js'
import { hasChromium, launchChromium } from '../helpers/browser.js'
import { registerClient } from '../helpers/clients.js'
import { createUser, loginAs } from '../helpers/factories.js'
import { listeningApp, tempDataDir } from '../helpers/server.js'

/** The relying party's callback: a tiny local server that answers 200 to whatever lands. */
async function callbackServer() {
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return { base, close: () => new Promise((r) => server.close(r)) }
}

/** Keygate paths the page visited (so "no consent page" can be asserted). */
function visits(page: Page, origin: string): string[] {
  const seen: string[] = []
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame() && frame.url().startsWith(origin)) {
      seen.push(new URL(frame.url()).pathname)
    }
  })
  return seen
}

describe.skipIf(!hasChromium)('consent through a real browser (SPEC §7)', () => {
  it('shown, denied, granted, remembered, widened, forced, withdrawn', async () => {
    const rp = await callbackServer()
    try {
      const t = await listeningApp({
        dataDir: tempDataDir(),
        firstSuperuserEmail: ADMIN.email,
        firstSuperuserPassword: ADMIN.password,
      })
      const admin = await loginAs(t.app, ADMIN)
      const callback = `${rp.base}/callback`
      const registered = await registerClient(t.app, admin.headers, {
        name: 'Acme Notes',
        type: 'confidential',
        redirect_uris: [callback],
      })
      const user = await createUser(t.app)
      const config = await oidc.discovery(
        new URL(t.base),
        registered.client_id,
        registered.client_secret,
        oidc.ClientSecretBasic(registered.client_secret as string),
        { execute: [oidc.allowInsecureRequests] },
      )

      const browser = await launchChromium()
      const context: BrowserContext = await browser.newContext()
      const page = await context.newPage()
      const seen = visits(page, t.base)

      /** Starts an authorization; answers the callback URL and what to spend it with. */
      async function start(scope: string, extra: Record<string, string> = {}) {
        const verifier = oidc.randomPKCECodeVerifier()
        const state = oidc.randomState()
        const url = oidc.buildAuthorizationUrl(config, {
          redirect_uri: callback,
          scope,
          code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
          nonce: 'n-0S6',
          state,
          ...extra,
        })
        seen.length = 0
        await page.goto(url.href)
        return { verifier, state }
      }
      const landed = async () => {
        await page.waitForURL(`${callback}**`, { timeout: 30_000 })
        return new URL(page.url())
      }
      const onConsentPage = async (scopes: string[]) => {
        await page.waitForURL(`${t.base}/consent**`, { timeout: 30_000 })
        const text = await page.locator('main').innerText()
        expect(text).toContain('Acme Notes')
        for (const s of scopes) {
          expect(text).toContain(SCOPE_DESCRIPTIONS[s as keyof typeof SCOPE_DESCRIPTIONS])
        }
        expect(await page.locator('button[name=decision][value=allow]').count()).toBe(1)
        expect(await page.locator('button[name=decision][value=deny]').count()).toBe(1)
        return text
      }
      const choose = async (decision: 'allow' | 'deny') => {
        await page.click(`button[name=decision][value=${decision}]`)
        return landed()
      }
      const exchange = (at: URL, flow: { verifier: string; state: string }) =>
        oidc.authorizationCodeGrant(config, at, {
          pkceCodeVerifier: flow.verifier,
          expectedState: flow.state,
          expectedNonce: 'n-0S6',
          idTokenExpected: true,
        })

      // Shown (after signing in), and denied: access_denied with state and iss.
      const denied = await start('openid email')
      await page.fill('input[name=username]', user.email)
      await page.fill('input[name=password]', user.password)
      await page.click('button[type=submit]')
      const shown = await onConsentPage(['openid', 'email'])
      expect(shown).not.toContain(SCOPE_DESCRIPTIONS.offline_access)
      const refusal = await choose('deny')
      expect(Object.fromEntries(refusal.searchParams)).toMatchObject({
        error: 'access_denied',
        state: denied.state,
        iss: t.base,
      })
      expect(refusal.searchParams.get('code')).toBeNull()

      // Granted: the token carries exactly what was consented; no offline_access, no refresh token.
      const granted = await start('openid email')
      await onConsentPage(['openid', 'email'])
      const first = await exchange(await choose('allow'), granted)
      expect(first.scope).toBe('openid email')
      expect(first.refresh_token).toBeUndefined()
      const me = await fetch(`${t.base}/api/v1/users/me`, {
        headers: { authorization: `Bearer ${first.access_token}` },
      })
      expect(me.status).toBe(200)

      // Remembered: the same request goes straight back with a code, no page.
      const again = await start('openid email')
      const second = await exchange(await landed(), again)
      expect(seen).not.toContain('/consent')
      expect(second.scope).toBe('openid email')

      // prompt=none for more than was consented: consent_required, with state and iss.
      const silent = await start('openid email offline_access', { prompt: 'none' })
      const required = await landed()
      expect(Object.fromEntries(required.searchParams)).toMatchObject({
        error: 'consent_required',
        state: silent.state,
        iss: t.base,
      })
      expect(seen).not.toContain('/consent')

      // Widened: asked again; offline_access then brings a refresh token.
      const wider = await start('openid email offline_access')
      const widened = await onConsentPage(['openid', 'email', 'offline_access'])
      expect(widened).toContain('(new)')
      const third = await exchange(await choose('allow'), wider)
      expect(third.scope).toBe('openid email offline_access')
      expect(third.refresh_token).toBeTypeOf('string')

      // prompt=consent shows the page even with everything consented.
      const forced = await start('openid email', { prompt: 'consent' })
      await onConsentPage(['openid', 'email'])
      await exchange(await choose('allow'), forced)

      // Listed among the user's apps, then withdrawn: its tokens die at once.
      const own = await loginAs(t.app, user)
      const apps = await fetch(`${t.base}/api/v1/users/me/apps`, { headers: own.headers })
      expect(await apps.json()).toEqual([
        expect.objectContaining({
          client_id: registered.client_id,
          name: 'Acme Notes',
          scope: 'openid email offline_access',
        }),
      ])
      const withdraw = await fetch(`${t.base}/api/v1/users/me/apps/${registered.client_id}`, {
        method: 'DELETE',
        headers: own.headers,
      })
      expect(withdraw.status).toBe(204)
      for (const token of [first, second, third]) {
        const res = await fetch(`${t.base}/api/v1/users/me`, {
          headers: { authorization: `Bearer ${token.access_token}` },
        })
        expect(res.status).toBe(401)
      }
      await expect(oidc.refreshTokenGrant(config, third.refresh_token as string)).rejects.toThrow()
      // The user's own token is untouched.
      const still = await fetch(`${t.base}/api/v1/users/me`, { headers: own.headers })
      expect(still.status).toBe(200)

      // Forgotten: the next authorization asks again.
      await start('openid email')
      await onConsentPage(['openid', 'email'])
      await context.close()
    } finally {
      await rp.close()
    }
  }, 180_000)
})
