import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import * as oidc from 'openid-client'
import { type Browser, chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { JwtAlgorithm } from '../../src/config.js'
import { ADMIN } from '../helpers/accounts.js'
import { CHROMIUM, hasChromium } from '../helpers/browser.js'
import { registerClient } from '../helpers/clients.js'
import { createUser, loginAs } from '../helpers/factories.js'
import { listeningApp, tempDataDir } from '../helpers/server.js'

/** A relying party's callback: a tiny local server that records where the browser landed. */
async function callbackServer() {
  const hits: string[] = []
  const server: Server = createServer((req, res) => {
    hits.push(req.url ?? '')
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return { base, hits, close: () => new Promise((r) => server.close(r)) }
}

// One Chromium for the whole file (the machine is shared); a fresh context per test.
let browser: Browser
beforeAll(async () => {
  if (!hasChromium) return
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  })
})
afterAll(async () => browser?.close())

const cases: { type: 'public' | 'confidential'; alg: JwtAlgorithm }[] = [
  { type: 'public', alg: 'HS256' },
  { type: 'confidential', alg: 'HS256' },
  { type: 'public', alg: 'EdDSA' },
  { type: 'confidential', alg: 'EdDSA' },
]

describe.skipIf(!hasChromium)('sign in with openid-client through a real browser', () => {
  for (const { type, alg } of cases) {
    it(`${type} client, ${alg} access tokens: code + PKCE → ID token → UserInfo → refresh → logout`, async () => {
      const rp = await callbackServer()
      try {
        const t = await listeningApp({
          jwtAlgorithm: alg,
          dataDir: tempDataDir(),
          firstSuperuserEmail: ADMIN.email,
          firstSuperuserPassword: ADMIN.password,
        })
        const admin = await loginAs(t.app, ADMIN)
        const registered = await registerClient(t.app, admin.headers, {
          name: 'Relying Party',
          type,
          redirect_uris: [`${rp.base}/callback`],
          post_logout_redirect_uris: [`${rp.base}/bye`],
        })
        const user = await createUser(t.app, { username: 'rp-user' })

        const config = await oidc.discovery(
          new URL(t.base),
          registered.client_id,
          registered.client_secret,
          type === 'public' ? oidc.None() : oidc.ClientSecretBasic(registered.client_secret),
          { execute: [oidc.allowInsecureRequests] },
        )
        const verifier = oidc.randomPKCECodeVerifier()
        const nonce = oidc.randomNonce()
        const state = oidc.randomState()
        const url = oidc.buildAuthorizationUrl(config, {
          redirect_uri: `${rp.base}/callback`,
          scope: 'openid profile email offline_access',
          code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
          nonce,
          state,
        })

        const context = await browser.newContext()
        const page = await context.newPage()
        await page.goto(url.href)
        await page.fill('input[name=username]', user.email)
        await page.fill('input[name=password]', user.password)
        await page.click('button[type=submit]')
        // A third-party client: the consent page comes first (SPEC §7).
        await page.waitForURL(`${t.base}/consent**`, { timeout: 30_000 })
        await Promise.all([
          page.waitForURL(`${rp.base}/callback**`, { timeout: 30_000 }),
          page.click('button[name=decision][value=allow]'),
        ])
        const callback = new URL(page.url())
        expect(callback.searchParams.get('iss')).toBe(t.base)

        const cookie = (await context.cookies(t.base)).find((c) => c.name === 'keygate_session')
        expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/', secure: false })
        expect(cookie?.expires).toBe(-1)

        const tokens = await oidc.authorizationCodeGrant(config, callback, {
          pkceCodeVerifier: verifier,
          expectedNonce: nonce,
          expectedState: state,
          idTokenExpected: true,
        })
        const claims = tokens.claims()!
        expect(claims).toMatchObject({ sub: user.id, aud: registered.client_id, nonce })
        expect(claims.sid).toBeTypeOf('string')
        const header = JSON.parse(
          Buffer.from(tokens.id_token!.split('.')[0]!, 'base64url').toString(),
        )
        // ID tokens are asymmetric even when access tokens are HS256.
        expect(header.alg).toBe(alg === 'HS256' ? 'RS256' : alg)

        const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub)
        expect(info).toMatchObject({
          sub: user.id,
          email: user.email,
          preferred_username: 'rp-user',
        })

        // Single sign-on: the same browser gets a second code without a form, even with prompt=none.
        const again = oidc.buildAuthorizationUrl(config, {
          redirect_uri: `${rp.base}/callback`,
          scope: 'openid',
          code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
          prompt: 'none',
          state: 'sso',
        })
        await page.goto(again.href)
        expect(new URL(page.url()).searchParams.get('code')).toBeTypeOf('string')

        const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!)
        expect(refreshed.access_token).toBeTypeOf('string')

        await page.goto(
          oidc.buildEndSessionUrl(config, {
            id_token_hint: tokens.id_token!,
            post_logout_redirect_uri: `${rp.base}/bye`,
            state: 'bye',
          }).href,
        )
        expect(page.url()).toBe(`${rp.base}/bye?state=bye`)
        await expect(oidc.refreshTokenGrant(config, refreshed.refresh_token!)).rejects.toThrow()
        const me = await fetch(`${t.base}/api/v1/users/me`, {
          headers: { authorization: `Bearer ${refreshed.access_token}` },
        })
        expect(me.status).toBe(401)
        await context.close()
      } finally {
        await rp.close()
      }
    }, 120_000)
  }
})
