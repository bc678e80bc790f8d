import { expect, it } from 'vitest'
import { ADMIN } from '../helpers/accounts.js'
import { hasChromium, launchChromium } from '../helpers/browser.js'
import { basicAuth, tokenRequest } from '../helpers/clients.js'
import { createUser, loginAs } from '../helpers/factories.js'
import { listeningApp } from '../helpers/server.js'

// One browser and one page for the whole journey (the machine is shared).
it.skipIf(!hasChromium)(
  'admin console in Chromium: find, deactivate and reactivate a user, rotate a secret, filter the audit log',
  { timeout: 180_000 },
  async () => {
    const t = await listeningApp({
      firstSuperuserEmail: ADMIN.email,
      firstSuperuserPassword: ADMIN.password,
    })
    const browser = await launchChromium()
    const page = await browser.newPage()
    const problems: string[] = []
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text())
    })
    page.on('pageerror', (e) => problems.push(e.message))
    // Every answer but the favicon's 404 succeeds.
    page.on('response', (r) => {
      if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) problems.push(r.url())
    })
    const url = (path: string) => `${t.base}${path}`
    const user = await createUser(t.app, { username: 'target_person' })
    const api = await loginAs(t.app, user)
    const me = () => t.app.inject({ method: 'GET', url: '/api/v1/users/me', headers: api.headers })

    // Signed out: the console sends the browser through sign-in and back.
    await page.goto(url('/admin'))
    await page.waitForURL(url('/signin?return_to=%2Fadmin'))
    await page.fill('input[name=username]', ADMIN.email)
    await page.fill('input[name=password]', ADMIN.password)
    await page.click('button[type=submit]')
    await page.waitForURL(url('/admin/users'))

    // Find the user by part of their username and open them.
    await page.fill('#q', 'TARGET_pers')
    await page.click('form[aria-label="Search users"] button')
    await page.waitForURL(url('/admin/users?q=TARGET_pers'))
    expect(await page.locator('table.admin tbody tr').count()).toBe(1)
    await page.click(`a:text("${user.email}")`)
    await page.waitForURL(url(`/admin/users/${user.id}`))
    expect(await page.textContent('#status')).toContain('Active')

    // Deactivate: their access token dies at once.
    expect((await me()).statusCode).toBe(200)
    await page.click('form[aria-label=Deactivate] button')
    await page.waitForURL(url(`/admin/users/${user.id}?done=deactivated`))
    expect(await page.textContent('#status')).toContain('Deactivated')
    expect((await me()).statusCode).toBe(401)
    // The user's recent events show the admin's action.
    expect(await page.textContent('#events ~ table')).toContain('user_deactivated')

    // Reactivate: they can sign in again.
    await page.click('form[aria-label=Reactivate] button')
    await page.waitForURL(url(`/admin/users/${user.id}?done=reactivated`))
    expect(await page.textContent('#status')).toContain('Active')
    await loginAs(t.app, user)

    // Register a confidential client, then rotate its secret.
    await page.click('nav[aria-label="Admin console"] a:text("Clients")')
    await page.waitForURL(url('/admin/clients'))
    await page.click('a:text("Register a client")')
    await page.fill('#name', 'Reports')
    await page.check('input[name=type][value=confidential]')
    await page.fill('#redirect_uris', 'https://reports.example/cb')
    await page.check('input[name=grant_types][value=client_credentials]')
    await page.click('form[aria-label="Register a client"] button[type=submit]')
    const clientId = (await page.textContent('#client-id')) ?? ''
    const oldSecret = (await page.textContent('#client-secret')) ?? ''
    expect(oldSecret.length).toBeGreaterThan(30)
    const token = (secret: string) =>
      t.app.inject(tokenRequest({ grant_type: 'client_credentials' }, basicAuth(clientId, secret)))
    expect((await token(oldSecret)).statusCode).toBe(200)
    await page.click('a:text("Go to Reports")')
    await page.waitForURL(url(`/admin/clients/${clientId}`))
    await page.click('form[aria-label="Rotate secret"] button')
    const newSecret = (await page.textContent('#client-secret')) ?? ''
    expect(newSecret).not.toBe(oldSecret)
    expect((await token(oldSecret)).statusCode).toBe(401)
    expect((await token(newSecret)).statusCode).toBe(200)

    // The audit log, filtered to the user and one type.
    await page.click('nav[aria-label="Admin console"] a:text("Audit log")')
    await page.waitForURL(url('/admin/audit'))
    await page.fill('#user_id', user.id)
    await page.selectOption('#type', 'user_deactivated')
    await page.click('form[aria-label="Filter the audit log"] button')
    await page.waitForURL((u) => u.pathname === '/admin/audit' && u.search.includes('type='))
    const rows = page.locator('table.audit tbody tr')
    expect(await rows.count()).toBe(1)
    const row = (await rows.first().textContent()) ?? ''
    expect(row).toContain('user_deactivated')
    expect(row).toContain(user.id)
    const adminId = (
      await t.app.inject({
        method: 'GET',
        url: '/api/v1/users/me',
        headers: (await loginAs(t.app, ADMIN)).headers,
      })
    ).json().id as string
    expect(row).toContain(adminId)

    // No script on the pages, no CSP violation (a console error), no failed request.
    expect(await page.locator('script').count()).toBe(0)
    expect(problems.filter((p) => !p.startsWith('Failed to load resource'))).toEqual([])
  },
)
