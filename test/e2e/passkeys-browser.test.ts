import { createServer } from 'node:net'
import type { CDPSession, Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { buildTestApp } from '../helpers/app.js'
import { hasChromium, launchChromium } from '../helpers/browser.js'
import { createUser, loginAs } from '../helpers/factories.js'
import { enableTotp } from '../helpers/totp.js'

/** A free TCP port: PUBLIC_URL must name it before the app is built. */
const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })

/** A platform authenticator with resident keys and user verification (CDP WebAuthn domain). */
async function addAuthenticator(page: Page): Promise<{ cdp: CDPSession; id: string }> {
  const cdp = await page.context().newCDPSession(page)
  await cdp.send('WebAuthn.enable')
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  })
  return { cdp, id: authenticatorId }
}

describe.skipIf(!hasChromium)('passkeys in Chromium with a virtual authenticator', () => {
  it('registers, signs in without a password and as second factor, renames, deletes (then refused)', async () => {
    const port = await freePort()
    // WebAuthn needs a secure context and a domain: http://localhost qualifies, 127.0.0.1 does not.
    const origin = `http://localhost:${port}`
    const t = await buildTestApp({ publicUrl: origin })
    const user = await createUser(t.app)
    await t.app.listen({ port, host: 'localhost' })

    const browser = await launchChromium()
    const page = await browser.newPage()
    const problems: string[] = []
    page.on('pageerror', (e) => problems.push(e.message))
    const failed: string[] = []
    page.on('response', (r) => {
      const path = new URL(r.url()).pathname
      if (r.status() >= 400 && path !== '/favicon.ico') failed.push(`${r.status()} ${path}`)
    })
    const { cdp, id } = await addAuthenticator(page)

    // Password sign-in, then the account page offers "Add a passkey".
    await page.goto(`${origin}/signin`)
    await page.fill('input[name=username]', user.email)
    await page.fill('input[name=password]', user.password)
    await page.click('button[type=submit]')
    await page.waitForURL(`${origin}/account`)
    await page.fill('#passkey-new-name', 'Test laptop')
    await page.click('button[data-passkey=register]')
    await page.waitForURL(/done=passkey-added/)
    await expect.poll(() => page.textContent('#passkeys ~ ul')).toContain('Test laptop')
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId: id })
    expect(credentials).toHaveLength(1)
    expect(credentials[0]?.isResidentCredential).toBe(true)

    // Signed out, the sign-in page's passkey button signs in with no password typed.
    await page.click('form[action="/signout"] button')
    await page.waitForURL(/signed-out/)
    await page.goto(`${origin}/signin`)
    await page.click('button[data-passkey=authenticate]')
    await page.waitForURL(`${origin}/account`)
    expect(await page.textContent('main')).toContain(user.email)
    const session = await t.database.db
      .selectFrom('sessions')
      .select(['amr', 'auth_time'])
      .where('user_id', '=', user.id)
      .where('revoked_at', 'is', null)
      .where('cookie_hash', 'is not', null)
      .executeTakeFirstOrThrow()
    // A device-bound credential, verified user (RFC 8176).
    expect(session.amr).toBe('hwk user')

    // With TOTP on, the passkey also serves as the second step after a password.
    await enableTotp(t.app, t.clock, (await loginAs(t.app, user)).headers, user.password)
    await page.click('form[action="/signout"] button')
    await page.waitForURL(/signed-out/)
    await page.goto(`${origin}/signin`)
    await page.fill('input[name=username]', user.email)
    await page.fill('input[name=password]', user.password)
    await page.click('button[type=submit]')
    await page.waitForURL(`${origin}/signin/second-step`)
    await page.click('button[data-passkey=authenticate]')
    await page.waitForURL(`${origin}/account`)
    const second = await t.database.db
      .selectFrom('sessions')
      .select('amr')
      .where('user_id', '=', user.id)
      .where('revoked_at', 'is', null)
      .where('cookie_hash', 'is not', null)
      .executeTakeFirstOrThrow()
    expect(second.amr).toBe('pwd hwk user mfa')

    // Rename and delete on the account page (plain forms).
    const item = page.locator('#passkeys ~ ul li').first()
    await item.locator('input[name=name]').fill('Work laptop')
    await item.locator('button', { hasText: 'Rename' }).click()
    await page.waitForURL(/done=passkey-renamed/)
    expect(await page.textContent('#passkeys ~ ul')).toContain('Work laptop')
    await page.locator('#passkeys ~ ul li').first().locator('button', { hasText: 'Delete' }).click()
    await page.waitForURL(/done=passkey-deleted/)
    expect(await page.textContent('main')).toContain('No passkeys yet.')

    // The authenticator still holds the key, but Keygate no longer accepts it.
    await page.click('form[action="/signout"] button')
    await page.waitForURL(/signed-out/)
    await page.goto(`${origin}/signin`)
    await page.click('button[data-passkey=authenticate]')
    await expect.poll(() => page.textContent('#passkey-signin-status')).toBe('Passkey not accepted')
    expect(page.url()).toBe(`${origin}/signin`)
    expect(problems).toEqual([])
    expect(failed).toEqual(['400 /passkeys/signin'])
  }, 120_000)
})
