import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { issueResetLink, tokenOf } from '../helpers/accounts.js'
import { buildTestApp } from '../helpers/app.js'
import { hasChromium, launchChromium } from '../helpers/browser.js'
import { createUser, loginAs, strongPassword } from '../helpers/factories.js'

describe('the reset page a mailed link opens', () => {
  it('is a static page under a strict CSP that never contains the token', async () => {
    const { app } = await buildTestApp()
    const res = await app.inject({ method: 'GET', url: '/reset-password?token=secret-token-value' })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(res.headers['cache-control']).toBe('no-store')
    expect(res.headers.pragma).toBe('no-cache')
    expect(res.headers['content-security-policy']).toContain("script-src 'self'")
    expect(res.headers['referrer-policy']).toBe('no-referrer')
    expect(res.body).not.toContain('secret-token-value')
    const js = await app.inject({ method: 'GET', url: '/reset-password.js' })
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8')
    expect(js.body).toContain("fetch('api/v1/auth/password-reset/confirm'")
  })

  it.skipIf(!hasChromium)('sets the password in a real browser', async () => {
    const t = await buildTestApp()
    const user = await createUser(t.app)
    const token = tokenOf((await issueResetLink(t, user.email))!)
    await t.app.listen({ port: 0, host: '127.0.0.1' })
    const { port } = t.app.server.address() as AddressInfo

    const browser = await launchChromium()
    const page = await browser.newPage()
    const problems: string[] = []
    page.on('pageerror', (e) => problems.push(e.message))
    const failed: string[] = []
    page.on('response', (r) => {
      if (r.status() >= 400 && !r.url().endsWith('/favicon.ico'))
        failed.push(`${r.status()} ${new URL(r.url()).pathname}`)
    })
    await page.goto(`http://127.0.0.1:${port}/reset-password?token=${token}`)
    // The token leaves the address bar as soon as the script has read it.
    await expect.poll(() => page.url()).toBe(`http://127.0.0.1:${port}/reset-password`)

    await page.fill('input[name=password]', 'password1')
    await page.fill('input[name=confirm]', 'password1')
    await page.click('button[type=submit]')
    await expect.poll(() => page.textContent('#out')).toMatch(/too common/)

    const next = strongPassword()
    await page.fill('input[name=password]', next)
    await page.fill('input[name=confirm]', next)
    await page.click('button[type=submit]')
    await expect.poll(() => page.textContent('#out')).toMatch(/password has been changed/)
    expect(problems).toEqual([])
    expect(failed).toEqual(['422 /api/v1/auth/password-reset/confirm'])
    await loginAs(t.app, { email: user.email, password: next })
  })
})
