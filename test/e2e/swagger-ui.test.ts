import { createServer } from 'node:net'
import { describe, expect, it } from 'vitest'
import { SCOPES } from '../../src/domain/scopes.js'
import { buildTestApp } from '../helpers/app.js'
import { CHROMIUM, hasChromium, launchChromium } from '../helpers/browser.js'
import { createUser } from '../helpers/factories.js'

/** A port nobody listens on right now, so PUBLIC_URL can name it before the app starts. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })
}

describe.skipIf(!hasChromium)('Swagger UI in a real browser', () => {
  it('Authorize with email + password, then Try it out on GET /users/me → 200', async () => {
    const port = await freePort()
    const publicUrl = `http://127.0.0.1:${port}`
    const { app } = await buildTestApp({ publicUrl, jwtIssuer: publicUrl, port })
    const user = await createUser(app, { username: 'swagger_user' })
    await app.listen({ port, host: '127.0.0.1' })

    const browser = await launchChromium()
    const page = await browser.newPage()
    const problems: string[] = []
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text())
    })
    page.on('pageerror', (e) => problems.push(e.message))
    // The browser's own Basic prompt must never appear (no WWW-Authenticate: Basic).
    page.on('dialog', (d) => {
      problems.push(`dialog: ${d.message()}`)
      void d.dismiss()
    })
    const tokenResponses: number[] = []
    const tokenForms: string[] = []
    page.on('response', (r) => {
      if (r.url().endsWith('/api/v1/auth/token')) tokenResponses.push(r.status())
    })
    page.on('request', (r) => {
      if (r.url().endsWith('/api/v1/auth/token')) tokenForms.push(r.postData() ?? '')
    })

    const requested: string[] = []
    page.on('request', (r) => requested.push(new URL(r.url()).pathname))
    await page.goto(`${publicUrl}/docs`)
    await page.locator('.auth-wrapper button.authorize').click({ timeout: 15_000 })
    // Keygate's name, its /openapi.json (the document clients are generated from), no Fastify mark.
    expect(await page.title()).toBe('Keygate API')
    expect(requested).toContain('/openapi.json')
    expect(requested).not.toContain('/docs/json')
    const icon = await page.locator('link[rel="icon"]').first().getAttribute('href')
    expect(icon).toMatch(/favicon\.svg$/)
    expect((await page.request.get(new URL(icon!, `${publicUrl}/docs`).href)).ok()).toBe(true)
    const logo = page.locator('.topbar-wrapper img')
    await expect.poll(async () => logo.getAttribute('src')).toMatch(/^data:image\/svg\+xml/)
    expect(
      Buffer.from((await logo.getAttribute('src'))!.split(',')[1]!, 'base64').toString(),
    ).toContain('Keygate')
    const modal = page.locator('.modal-ux')
    // SPEC §6: the dialog lists every scope, in plain words, to tick.
    const scopes = modal.locator('.scopes .checkbox')
    await expect.poll(async () => scopes.locator('p.name').allTextContents()).toEqual([...SCOPES])
    for (const text of await scopes.locator('p.description').allTextContents()) {
      expect(text.length).toBeGreaterThan(5)
    }
    // Ticking openid asks for it alone; GET /users/me needs no scope, so it still works.
    await scopes.filter({ hasText: 'openid' }).locator('label').click()
    await modal.locator('#oauth_username').fill(user.email)
    await modal.locator('#oauth_password').fill(user.password)
    await modal.locator('.auth-btn-wrapper button.authorize').click()
    await expect
      .poll(async () => modal.locator('button:has-text("Logout")').count(), { timeout: 15_000 })
      .toBeGreaterThan(0)
    expect(tokenResponses, problems.join('\n')).toEqual([200])
    expect(new URLSearchParams(tokenForms[0]).get('scope')).toBe('openid')
    await modal.locator('button.btn-done').click()

    const op = page.locator('.opblock-get', { has: page.locator('[data-path="/api/v1/users/me"]') })
    await op.locator('.opblock-summary').first().click()
    const tryIt = op.locator('button.try-out__btn')
    if ((await tryIt.count()) > 0 && (await tryIt.textContent())?.includes('Try it out')) {
      await tryIt.click()
    }
    await op.locator('button.execute').click()
    const status = op.locator('.live-responses-table tbody .response-col_status').first()
    await expect.poll(async () => status.textContent(), { timeout: 15_000 }).toMatch(/200/)
    const body = await op
      .locator('.live-responses-table tbody .response-col_description')
      .first()
      .textContent()
    expect(body).toContain(user.email)
    expect(
      problems.filter((p) =>
        /^dialog|refused to (connect|load)|content security policy|script-src/i.test(p),
      ),
    ).toEqual([])
  }, 60_000)
})

if (!hasChromium) {
  describe('Swagger UI in a real browser', () => {
    it.skip(`skipped: ${CHROMIUM} does not exist (apt-get install chromium)`, () => {})
  })
}
