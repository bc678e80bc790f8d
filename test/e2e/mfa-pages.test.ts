import { generate } from 'otplib'
import type { Page } from 'playwright-core'
import { expect, it } from 'vitest'
import { hasChromium, launchChromium } from '../helpers/browser.js'
import { createTestClock, type TestClock } from '../helpers/clock.js'
import { randomEmail, strongPassword } from '../helpers/factories.js'
import { listeningApp } from '../helpers/server.js'
import { type ReceivedMail, startSmtpServer, verifyTokenIn } from '../helpers/smtp.js'

/** The code an authenticator app shows for `secret` at the app's clock. */
const codeAt = (secret: string, clock: TestClock) =>
  generate({ secret, epoch: Math.floor(clock.now().getTime() / 1000) })

// One browser and one page for the whole journey (the machine is shared).
it.skipIf(!hasChromium)(
  'verify email, enrol TOTP, sign in with a code and a recovery code, change email, disable',
  { timeout: 180_000 },
  async () => {
    const smtp = await startSmtpServer()
    // A clock the test moves: each code below belongs to a later 30-second step.
    const clock = createTestClock(new Date())
    const t = await listeningApp(
      { smtpUrl: smtp.url, mailFrom: 'Keygate <keygate@example.com>' },
      { clock },
    )
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
    const mailTo = async (to: string): Promise<ReceivedMail> => {
      for (;;) {
        const mail = await smtp.nextMail()
        if (mail.to.includes(to)) return mail
      }
    }
    const signOut = async (p: Page) => {
      await p.goto(url('/account'))
      await p.click('form[aria-label="Sign out of this browser"] button')
      await p.waitForURL(url('/signed-out'))
    }
    const password1 = async (p: Page) => {
      await p.goto(url('/signin'))
      await p.fill('input[name=username]', email)
      await p.fill('input[name=password]', password)
      await p.click('button[type=submit]')
    }

    // Sign up; the verification mail's link opens a page whose button confirms.
    await page.goto(url('/signup'))
    await page.fill('input[name=email]', email)
    await page.fill('input[name=password]', password)
    await page.click('button[type=submit]')
    await page.waitForURL(url('/account'))
    expect(await page.textContent('main')).toContain('Your email address is not verified yet.')
    await page.goto(url(`/verify-email?token=${verifyTokenIn((await mailTo(email)).raw)}`))
    await page.waitForURL(url('/verify-email'))
    await page.click('form[aria-label="Confirm your email address"] button')
    expect(await page.textContent('[role=status]')).toContain(email)
    await page.goto(url('/account'))
    expect(await page.textContent('main')).toContain('Your email address is verified.')

    // Enrol: password, then the QR code (an image that loads under the CSP) and the key.
    await page.fill('#setup-password', password)
    await page.click('form[aria-label="Set up two-step verification"] button')
    const qrWidth = await page.$eval('img.qr', (img) => (img as HTMLImageElement).naturalWidth)
    expect(qrWidth).toBeGreaterThan(0)
    const secret = (await page.textContent('#totp-secret')) ?? ''
    expect(await page.textContent('#otpauth-uri')).toContain(`secret=${secret}`)
    await page.fill('#confirm-code', await codeAt(secret, clock))
    await page.click('form[aria-label="Confirm two-step verification"] button')
    const recovery = await page.$$eval('.codes code', (els) => els.map((e) => e.textContent ?? ''))
    expect(recovery).toHaveLength(10)
    await page.click('text=I have saved them')
    await page.waitForURL(url('/account?done=two-step-on'))
    expect(await page.textContent('main')).toContain('10 recovery codes left.')

    // Sign out, then in: the password alone opens no session.
    await signOut(page)
    await password1(page)
    await page.waitForURL(url('/signin/second-step'))
    const cookies = await page.context().cookies()
    expect(cookies.map((c) => c.name)).not.toContain('keygate_session')
    const held = cookies.find((c) => c.name === 'keygate_signin_challenge')
    expect(held).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/signin' })
    expect(await page.getAttribute('input[name=code]', 'autocomplete')).toBe('one-time-code')
    expect(await page.getAttribute('input[name=code]', 'inputmode')).toBe('numeric')
    clock.advanceSeconds(30)
    const code = await codeAt(secret, clock)
    await page.fill('input[name=code]', code)
    await page.click('button[type=submit]')
    await page.waitForURL(url('/account'))

    // The same code again is refused; a recovery code works, once.
    await signOut(page)
    await password1(page)
    await page.waitForURL(url('/signin/second-step'))
    await page.fill('input[name=code]', code)
    await page.click('button[type=submit]')
    expect(await page.textContent('#code-error')).toBe('The code is incorrect or was already used.')
    await page.click('text=Use a recovery code')
    await page.fill('input[name=recovery_code]', recovery[0] ?? '')
    await page.click('button[type=submit]')
    await page.waitForURL(url('/account'))
    expect(await page.textContent('main')).toContain('9 recovery codes left.')
    await signOut(page)
    await password1(page)
    await page.click('text=Use a recovery code')
    await page.fill('input[name=recovery_code]', recovery[0] ?? '')
    await page.click('button[type=submit]')
    expect(await page.textContent('#recovery_code-error')).toBe(
      'This recovery code is incorrect or was already used.',
    )
    await page.click('text=Use your authenticator app')
    clock.advanceSeconds(30)
    await page.fill('input[name=code]', await codeAt(secret, clock))
    await page.click('button[type=submit]')
    await page.waitForURL(url('/account'))

    // Email change: pending until the link to the new address is followed.
    const newEmail = randomEmail()
    await page.fill('#email', newEmail)
    await page.fill('#profile-current-password', password)
    await page.click('form[aria-label=Profile] button')
    await page.waitForURL(url('/account?done=email'))
    expect(await page.textContent('main')).toContain(`a link was sent to ${newEmail}`)
    expect(await page.inputValue('#email')).toBe(email)
    await page.goto(url(`/verify-email?token=${verifyTokenIn((await mailTo(newEmail)).raw)}`))
    await page.click('form[aria-label="Confirm your email address"] button')
    expect(await page.textContent('[role=status]')).toContain(newEmail)
    await page.goto(url('/account'))
    expect(await page.inputValue('#email')).toBe(newEmail)
    expect(await page.textContent('main')).not.toContain('Change pending')

    // Turn it off with the password and a current code; then the password alone signs in.
    clock.advanceSeconds(30)
    await page.fill('#disable-password', password)
    await page.fill('#disable-code', await codeAt(secret, clock))
    await page.click('form[aria-label="Turn off two-step verification"] button')
    await page.waitForURL(url('/account?done=two-step-off'))
    expect(await page.textContent('main')).toContain('Two-step verification is off.')
    await signOut(page)
    await page.goto(url('/signin'))
    await page.fill('input[name=username]', newEmail)
    await page.fill('input[name=password]', password)
    await page.click('button[type=submit]')
    await page.waitForURL(url('/account'))

    // No CSP violation and no script error along the way (failed loads are the
    // refused codes' 400s and the favicon's 404).
    expect(problems.filter((p) => !p.startsWith('Failed to load resource'))).toEqual([])
  },
)
