import { describe, expect, it } from 'vitest'
import { buildTestApp } from '../helpers/app.js'
import { createUser, loginAs } from '../helpers/factories.js'
import { pageClient, signInPage } from '../helpers/pages.js'
import { startSmtpServer, verifyTokenIn } from '../helpers/smtp.js'
import { totpAt } from '../helpers/totp.js'

const ORIGIN = 'http://localhost:8000'

async function setup(overrides = {}) {
  const t = await buildTestApp({ publicUrl: ORIGIN, ...overrides })
  const user = await createUser(t.app)
  const client = pageClient(t.app, ORIGIN)
  await signInPage(client, user)
  return { ...t, user, client }
}

async function smtpSetup() {
  const smtp = await startSmtpServer()
  const t = await setup({ smtpUrl: smtp.url, mailFrom: 'Keygate <keygate@example.com>' })
  await smtp.nextMail() // signup's verification link
  return { ...t, smtp }
}

/** Turns two-step verification on from the account page; the secret as the page showed it. */
async function enrol(t: Awaited<ReturnType<typeof setup>>) {
  const { client, user, clock } = t
  const page = await client.post(
    '/account/two-step/setup',
    { password: user.password },
    { from: '/account' },
  )
  expect(page.statusCode).toBe(200)
  const secret = /<code id="totp-secret">([A-Z2-7]+)<\/code>/.exec(page.body)?.[1] ?? ''
  const confirmed = await client.post(
    '/account/two-step/confirm',
    { code: await totpAt(secret, clock) },
    { from: '/account' },
  )
  expect(confirmed.statusCode).toBe(200)
  const codes = [...confirmed.body.matchAll(/<li><code>([a-z0-9-]+)<\/code><\/li>/g)].map(
    (m) => m[1] ?? '',
  )
  clock.advanceSeconds(30)
  return { secret, codes, setupPage: page.body }
}

describe('account page: two-step verification', () => {
  it('enrols: password, QR code as an image, secret and URI, a code, then 10 codes once', async () => {
    const t = await setup()
    const { client } = t
    const off = await client.get('/account')
    expect(off.body).toContain('<h2 id="two-step">Two-step verification</h2>')
    expect(off.body).toContain('action="/account/two-step/setup"')

    const wrong = await client.post(
      '/account/two-step/setup',
      { password: 'Wrong-pass-1' },
      { from: '/account' },
    )
    expect(wrong.statusCode).toBe(400)
    expect(wrong.body).toMatch(
      /id="setup-password-error" class="error">The current password is incorrect./,
    )

    const { secret, codes, setupPage } = await enrol(t)
    expect(secret).toMatch(/^[A-Z2-7]{16,}$/)
    expect(setupPage).toMatch(/<img class="qr" src="data:image\/svg\+xml;base64,[A-Za-z0-9+/=]+"/)
    expect(setupPage).toContain('otpauth://totp/Keygate:')
    expect(setupPage).not.toContain('<svg')
    const qr = /src="data:image\/svg\+xml;base64,([^"]+)"/.exec(setupPage)?.[1] ?? ''
    expect(Buffer.from(qr, 'base64').toString()).toMatch(
      /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/,
    )
    expect(setupPage).toMatch(
      /<input id="confirm-code" name="code" type="text" autocomplete="one-time-code" required autofocus inputmode="numeric"/,
    )
    expect(codes).toHaveLength(10)

    const on = await client.get('/account')
    expect(on.body).toContain('10 recovery codes left.')
    expect(on.body).toContain('action="/account/two-step/disable"')
    expect(on.body).not.toContain(codes[0])
  })

  it('a wrong confirmation code leaves it off', async () => {
    const t = await setup()
    const { client, user } = t
    await client.post('/account/two-step/setup', { password: user.password }, { from: '/account' })
    const wrong = await client.post(
      '/account/two-step/confirm',
      { code: '000000' },
      { from: '/account' },
    )
    expect(wrong.statusCode).toBe(400)
    expect(wrong.body).toContain('The code is incorrect or was already used.')
    expect((await client.get('/account')).body).toContain('action="/account/two-step/setup"')
  })

  it('new recovery codes and turning off need the password and a current code', async () => {
    const t = await setup()
    const { client, user, clock, app } = t
    const { secret, codes } = await enrol(t)

    const badCode = await client.post(
      '/account/two-step/recovery-codes',
      { password: user.password, code: '000000' },
      { from: '/account' },
    )
    expect(badCode.statusCode).toBe(400)
    expect(badCode.body).toMatch(/id="recovery-code-error" class="error">The code is incorrect/)
    const fresh = await client.post(
      '/account/two-step/recovery-codes',
      { password: user.password, code: await totpAt(secret, clock) },
      { from: '/account' },
    )
    expect(fresh.statusCode).toBe(200)
    const next = [...fresh.body.matchAll(/<li><code>([a-z0-9-]+)<\/code><\/li>/g)].map((m) => m[1])
    expect(next).toHaveLength(10)
    expect(next).not.toContain(codes[0])
    // The old codes are dead on the sign-in page.
    const other = pageClient(app, ORIGIN)
    await other.post('/signin', { username: user.email, password: user.password })
    const old = await other.post('/signin/second-step', { recovery_code: codes[0] ?? '' })
    expect(old.statusCode).toBe(400)
    clock.advanceSeconds(30)

    const badPassword = await client.post(
      '/account/two-step/disable',
      { password: 'Wrong-pass-1', code: await totpAt(secret, clock) },
      { from: '/account' },
    )
    expect(badPassword.body).toMatch(
      /id="disable-password-error" class="error">The current password/,
    )
    const off = await client.post(
      '/account/two-step/disable',
      { password: user.password, code: await totpAt(secret, clock) },
      { from: '/account' },
    )
    expect(off.statusCode).toBe(303)
    expect(off.headers.location).toBe('/account?done=two-step-off')
    expect((await client.get('/account?done=two-step-off')).body).toContain(
      'Two-step verification is off.',
    )
    // The password alone signs in again.
    const again = pageClient(app, ORIGIN)
    const res = await again.post('/signin', { username: user.email, password: user.password })
    expect(res.headers.location).toBe('/account')
  })

  it('every new form refuses a post without its token; a signed-out browser goes to sign in', async () => {
    const { client, user, app } = await setup()
    for (const [url, fields] of [
      ['/account/verify-email', {}],
      ['/account/two-step/setup', { password: user.password }],
      ['/account/two-step/confirm', { code: '123456' }],
      ['/account/two-step/disable', { password: user.password, code: '123456' }],
      ['/account/two-step/recovery-codes', { password: user.password, code: '123456' }],
      ['/verify-email', {}],
      ['/signin/second-step', { code: '123456' }],
      ['/signin/resend-verification', { username: user.email }],
    ] as const) {
      const bare = await client.post(url, fields, { csrf: null })
      expect(bare.statusCode, url).toBe(403)
      const foreign = await client.post(url, fields, {
        origin: 'https://evil.example',
        from: '/account',
      })
      expect(foreign.statusCode, url).toBe(403)
    }
    expect((await client.get('/account')).body).toContain('action="/account/two-step/setup"')
    const stranger = pageClient(app, ORIGIN)
    const res = await stranger.post(
      '/account/two-step/setup',
      { password: 'x' },
      { from: '/signin' },
    )
    expect(res.statusCode).toBe(303)
    expect(res.headers.location).toBe('/signin?return_to=%2Faccount')
  })
})

describe('verify-email page and email change', () => {
  it('the mailed link opens a page whose button confirms; opening it alone changes nothing', async () => {
    const smtp = await startSmtpServer()
    const t = await buildTestApp({
      publicUrl: ORIGIN,
      smtpUrl: smtp.url,
      mailFrom: 'Keygate <keygate@example.com>',
    })
    const user = await createUser(t.app)
    const token = verifyTokenIn((await smtp.nextMail()).raw)
    const browser = pageClient(t.app, ORIGIN)

    const opened = await browser.get(`/verify-email?token=${token}`)
    expect(opened.statusCode).toBe(303)
    expect(opened.headers.location).toBe('/verify-email')
    expect(browser.jar.lastSetCookie.find((c) => c.startsWith('keygate_verify_email='))).toMatch(
      /^keygate_verify_email=[A-Za-z0-9_-]+; Max-Age=86400; Path=\/verify-email; HttpOnly; SameSite=Lax$/,
    )
    const page = await browser.get('/verify-email')
    expect(page.body).toContain('Confirm my email address')
    expect(page.body).not.toContain(token)
    const { headers } = await loginAs(t.app, user)
    const me = async () =>
      (await t.app.inject({ method: 'GET', url: '/api/v1/users/me', headers })).json()
    expect((await me()).email_verified).toBe(false)

    const done = await browser.post('/verify-email', {})
    expect(done.statusCode).toBe(200)
    expect(done.body).toContain('Your email address is confirmed')
    expect((await me()).email_verified).toBe(true)
    // Spent: the cookie went, and the link does not work twice.
    await browser.get(`/verify-email?token=${token}`)
    const twice = await browser.post('/verify-email', {})
    expect(twice.statusCode).toBe(400)
    expect(twice.body).toContain('This link is incomplete, expired or already used.')
    expect((await browser.get('/verify-email')).body).toContain('already used')
  })

  it('the account page resends the link and shows whether the address is verified', async () => {
    const { client, smtp, user } = await smtpSetup()
    const page = await client.get('/account')
    expect(page.body).toContain('Your email address is not verified yet.')
    const sent = await client.post('/account/verify-email', {}, { from: '/account' })
    expect(sent.headers.location).toBe('/account?done=verify')
    const mail = await smtp.nextMail()
    expect(mail.to).toEqual([user.email])
    await client.get(`/verify-email?token=${verifyTokenIn(mail.raw)}`)
    expect((await client.post('/verify-email', {})).statusCode).toBe(200)
    const after = await client.get('/account')
    expect(after.body).toContain('Your email address is verified.')
    expect(after.body).not.toContain('Resend the verification link')
  })

  it('an email change waits for the link to the new address; the old one stays meanwhile', async () => {
    const { client, smtp, user, app } = await smtpSetup()
    const email = `new-${user.email}`
    const saved = await client.post(
      '/account/profile',
      { email, username: '', current_password: user.password },
      { from: '/account' },
    )
    expect(saved.headers.location).toBe('/account?done=email')
    const page = await client.get('/account?done=email')
    expect(page.body).toContain('A link was sent to your new address.')
    expect(page.body).toContain(`Change pending: a link was sent to <strong>${email}</strong>`)
    expect(page.body).toContain(`value="${user.email}"`)

    const mails = [await smtp.nextMail(), await smtp.nextMail()]
    const link = mails.find((m) => m.to[0] === email)
    expect(mails.find((m) => m.to[0] === user.email)?.raw).toMatch(/being changed/)
    await loginAs(app, user) // the old address is still the login

    await client.get(`/verify-email?token=${verifyTokenIn(link?.raw ?? '')}`)
    const done = await client.post('/verify-email', {})
    expect(done.body).toContain(`Your email address is confirmed: <strong>${email}</strong>`)
    const after = await client.get('/account')
    expect(after.body).not.toContain('Change pending')
    expect(after.body).toContain(`value="${email}"`)
    await loginAs(app, { email, password: user.password })
  })
})
