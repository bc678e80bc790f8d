import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { expect, it, onTestFinished } from 'vitest'
import { hasChromium, launchChromium } from '../helpers/browser.js'
import { createUser, loginAs, randomEmail, strongPassword } from '../helpers/factories.js'
import { listeningApp } from '../helpers/server.js'

// One browser and one page for the whole journey (the machine is shared).
it.skipIf(!hasChromium)(
  'sign up, account page, profile, password, sessions, sign out and back in, in Chromium',
  { timeout: 120_000 },
  async () => {
    const t = await listeningApp()
    const browser = await launchChromium()
    const page = await browser.newPage()
    const problems: string[] = []
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text())
    })
    page.on('pageerror', (e) => problems.push(e.message))
    const url = (path: string) => `${t.base}${path}`
    const email = randomEmail()
    const password = strongPassword()

    // Sign up, and land signed in on the account page.
    await page.goto(url('/signup'))
    await page.fill('input[name=email]', email)
    await page.fill('input[name=username]', 'page_user')
    await page.fill('input[name=password]', password)
    await page.click('button[type=submit]')
    await page.waitForURL(url('/account'))
    expect(await page.textContent('main')).toContain(email)
    // The stylesheet applied under the CSP (the header's background comes from it).
    const background = await page.$eval('header.site', (el) => getComputedStyle(el).backgroundColor)
    expect(background).toBe('rgb(255, 255, 255)')

    // Profile: a new username.
    await page.fill('#username', 'renamed_user')
    await page.click('form[aria-label=Profile] button')
    await page.waitForURL(url('/account?done=profile'))
    expect(await page.inputValue('#username')).toBe('renamed_user')

    // Password: a wrong current password is reported on its field.
    const next = strongPassword()
    await page.fill('#password-current-password', 'Wrong-pass-1')
    await page.fill('#new_password', next)
    await page.click('form[aria-label="Change password"] button')
    expect(await page.textContent('#password-current-password-error')).toBe(
      'The current password is incorrect.',
    )
    await page.fill('#password-current-password', password)
    await page.fill('#new_password', next)
    await page.click('form[aria-label="Change password"] button')
    await page.waitForURL(url('/account?done=password'))

    // Sessions: an API sign-in shows up, and is signed out from the page.
    const api = await loginAs(t.app, { email, password: next })
    await page.goto(url('/account'))
    expect(await page.locator('.sessions li').count()).toBe(2)
    await page.click('.sessions li form button')
    await page.waitForURL(url('/account?done=session'))
    expect(await page.locator('.sessions li').count()).toBe(1)
    const me = await t.app.inject({ method: 'GET', url: '/api/v1/users/me', headers: api.headers })
    expect(me.statusCode).toBe(401)

    // Sign out of this browser.
    await page.click('form[aria-label="Sign out of this browser"] button')
    await page.waitForURL(url('/signed-out'))
    await page.goto(url('/account'))
    await page.waitForURL(url('/signin?return_to=%2Faccount'))

    // Keyboard order: the username field has focus, then password, the button, the
    // passkey button, the links.
    await page.goto(url('/signin'))
    // The passkey button is shown by the page's script once it sees WebAuthn.
    await page.getByRole('button', { name: 'Sign in with a passkey' }).waitFor()
    const active = () =>
      page.evaluate(() => {
        const el = document.activeElement
        return el?.getAttribute('name') ?? el?.textContent ?? ''
      })
    const focused = [await active()]
    for (let i = 0; i < 4; i++) {
      await page.keyboard.press('Tab')
      focused.push(await active())
    }
    expect(focused).toEqual([
      'username',
      'password',
      'Sign in',
      'Sign in with a passkey',
      'Forgot your password?',
    ])

    // Unknown account and wrong password read the same.
    const other = await createUser(t.app)
    await page.fill('input[name=username]', 'nobody@example.com')
    await page.fill('input[name=password]', 'Wrong-pass-1')
    await page.click('button[type=submit]')
    const unknown = await page.textContent('[role=alert]')
    await page.fill('input[name=username]', other.email)
    await page.fill('input[name=password]', 'Wrong-pass-1')
    await page.click('button[type=submit]')
    expect(await page.textContent('[role=alert]')).toBe(unknown)

    // A return_to that leaves Keygate is not followed; one on Keygate is.
    await page.goto(url(`/signin?return_to=${encodeURIComponent('//evil.example/x')}`))
    await page.fill('input[name=username]', 'renamed_user')
    await page.fill('input[name=password]', next)
    await page.click('button[type=submit]')
    await page.waitForURL(url('/account'))
    await page.click('form[aria-label="Sign out of this browser"] button')
    await page.goto(url(`/signin?return_to=${encodeURIComponent('/signed-out?from=signin')}`))
    await page.fill('input[name=username]', email)
    await page.fill('input[name=password]', next)
    await page.click('button[type=submit]')
    await page.waitForURL(url('/signed-out?from=signin'))

    // Login CSRF from another origin on the same site (so SameSite=Lax cookies do go
    // along): the attacker's form has no token and the wrong Origin; refused.
    await page.context().clearCookies()
    await page.goto(url('/signin'))
    const attacker = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' })
      res.end(
        `<form method="post" action="${t.base}/signin"><input name="username" value="${email}">` +
          `<input name="password" value="${next}"><button>win a prize</button></form>`,
      )
    })
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve))
    onTestFinished(() => new Promise<void>((resolve) => attacker.close(() => resolve())))
    await page.goto(`http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`)
    await page.click('button')
    await page.waitForURL(url('/signin'))
    expect(await page.textContent('main')).toContain('was sent from another site')
    await page.goto(url('/account'))
    await page.waitForURL(url('/signin?return_to=%2Faccount'))

    // No CSP violation, no script error along the way (failed loads are the refused
    // forms' 400s and the favicon's 404).
    expect(problems.filter((p) => !p.startsWith('Failed to load resource'))).toEqual([])
  },
)
