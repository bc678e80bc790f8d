import { describe, expect, it } from 'vitest'
import { systemClock } from '../../src/domain/time.js'
import { issueResetLink, tokenOf } from '../helpers/accounts.js'
import { buildTestApp } from '../helpers/app.js'
import { hasChromium, launchChromium } from '../helpers/browser.js'
import type { TestClock } from '../helpers/clock.js'
import { createUser, loginAs, strongPassword } from '../helpers/factories.js'
import { listeningApp } from '../helpers/server.js'

describe('the reset page a mailed link opens', () => {
  it('moves the token out of the address into an HttpOnly cookie and never writes it into a page', async () => {
    const { app } = await buildTestApp()
    const res = await app.inject({ method: 'GET', url: '/reset-password?token=secret-token-value' })
    expect(res.statusCode).toBe(303)
    expect(res.headers.location).toBe('/reset-password')
    expect(res.headers['cache-control']).toBe('no-store')
    expect(res.headers['referrer-policy']).toBe('same-origin')
    const cookies = res.headers['set-cookie'] as string[]
    const reset = cookies.find((c) => c.startsWith('keygate_reset='))
    expect(reset).toMatch(
      /^keygate_reset=secret-token-value; Max-Age=\d+; Path=\/reset-password; HttpOnly; SameSite=Lax$/,
    )
    expect(res.body).toBe('')

    const page = await app.inject({
      method: 'GET',
      url: '/reset-password',
      headers: { cookie: 'keygate_reset=secret-token-value' },
    })
    expect(page.statusCode).toBe(200)
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(page.body).not.toContain('secret-token-value')
    expect(page.body).toContain('name="new_password"')
    expect(page.body).not.toContain('<script')
    // Without the cookie (link not opened, or expired), the page says what to do.
    const bare = await app.inject({ method: 'GET', url: '/reset-password' })
    expect(bare.body).toContain('This link is incomplete, expired or already used.')
  })

  it.skipIf(!hasChromium)(
    'sets the password in a real browser with JavaScript off',
    { timeout: 90_000 },
    async () => {
      const t = await listeningApp()
      const user = await createUser(t.app)
      // The app runs on the system clock (listeningApp), so the link is issued on it too.
      const link = (await issueResetLink({ ...t, clock: systemClock as TestClock }, user.email))!
      expect(tokenOf(link)).not.toBe('')

      const browser = await launchChromium()
      const context = await browser.newContext({ javaScriptEnabled: false })
      const page = await context.newPage()
      const requested: string[] = []
      page.on('request', (r) => requested.push(r.url()))
      await page.goto(link)
      // The token left the address bar at once.
      expect(page.url()).toBe(`${t.base}/reset-password`)

      await page.fill('input[name=new_password]', 'password1')
      await page.fill('input[name=confirm_password]', 'password1')
      await page.click('button[type=submit]')
      await expect.poll(() => page.textContent('#new_password-error')).toMatch(/too common/)
      expect(await page.getAttribute('#new_password', 'aria-describedby')).toBe(
        'new_password-error',
      )

      const next = strongPassword()
      await page.fill('input[name=new_password]', next)
      await page.fill('input[name=confirm_password]', next)
      await page.click('button[type=submit]')
      await expect.poll(() => page.textContent('main')).toMatch(/password has been changed/)
      await loginAs(t.app, { email: user.email, password: next })

      // The link works once.
      await page.goto(link)
      await page.fill('input[name=new_password]', next)
      await page.fill('input[name=confirm_password]', next)
      await page.click('button[type=submit]')
      await expect.poll(() => page.textContent('main')).toMatch(/expired or already used/)
      // Only the first request ever carried the token.
      expect(requested.filter((u) => u.includes('token=')).length).toBe(2)
    },
  )
})
