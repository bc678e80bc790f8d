import { describe, expect, it } from 'vitest'
import { createDeps } from '../../src/deps.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { createUser, loginAs } from '../helpers/factories.js'
import { csrfOf, pageClient } from '../helpers/pages.js'
import { throttled } from '../helpers/rate-limit.js'
import { startSmtpServer } from '../helpers/smtp.js'
import { enableTotp, totpAt } from '../helpers/totp.js'

const ORIGIN = 'http://localhost:8000'
const STEP = '/signin/second-step'

async function setup(overrides = {}) {
  const t = await buildTestApp({ publicUrl: ORIGIN, ...overrides })
  const user = await createUser(t.app)
  const { headers } = await loginAs(t.app, user)
  const factor = await enableTotp(t.app, t.clock, headers, user.password)
  const client = pageClient(t.app, ORIGIN)
  return { ...t, user, client, ...factor }
}

/** The browser session a cookie opens, as the provider reads it. */
async function sessionOf(t: TestApp, cookie: string | undefined) {
  const deps = await createDeps(t.config, { database: t.database, clock: t.clock })
  try {
    return await deps.services.browserSessions.current(cookie)
  } finally {
    // Its change bus holds a PostgreSQL connection (LISTEN) until closed.
    await deps.close()
  }
}

type Client = ReturnType<typeof pageClient>

const password = (client: Client, user: { email: string; password: string }, returnTo?: string) =>
  client.post('/signin', {
    username: user.email,
    password: user.password,
    ...(returnTo !== undefined && { return_to: returnTo }),
  })

describe('sign-in page: the second step', () => {
  it('a correct password on an account with a factor opens no session; the code does', async () => {
    const t = await setup()
    const { client, user, clock, secret } = t
    const first = await password(client, user)
    expect(first.statusCode).toBe(303)
    expect(first.headers.location).toBe(STEP)
    // No browser session yet, and the challenge is only in an HttpOnly, strict, short cookie.
    expect(client.jar.cookies.has('keygate_session')).toBe(false)
    expect(client.jar.cookies.has('keygate_device')).toBe(false)
    const held = client.jar.lastSetCookie.find((c) => c.startsWith('keygate_signin_challenge='))
    expect(held).toMatch(/; Max-Age=300; Path=\/signin; HttpOnly; SameSite=Strict$/)
    const challenge = client.jar.cookies.get('keygate_signin_challenge') ?? ''
    expect(challenge).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(first.headers.location).not.toContain(challenge)
    const account = await client.get('/account')
    expect(account.statusCode).toBe(303)
    expect(account.headers.location).toBe('/signin?return_to=%2Faccount')

    const step = await client.get(STEP)
    expect(step.statusCode).toBe(200)
    expect(step.body).not.toContain(challenge)
    expect(step.body).toMatch(
      /<input id="code" name="code" type="text" autocomplete="one-time-code" required autofocus inputmode="numeric"/,
    )
    expect(step.body).toContain('Use a recovery code')

    const done = await client.post(STEP, { code: await totpAt(secret, clock) })
    expect(done.statusCode).toBe(303)
    expect(done.headers.location).toBe('/account')
    expect(client.jar.cookies.has('keygate_signin_challenge')).toBe(false)
    const signed = await sessionOf(t, client.jar.cookies.get('keygate_session'))
    expect(signed?.user.id).toBe(user.id)
    expect(signed?.session.amr).toEqual(['pwd', 'otp', 'mfa'])
    expect((await client.get('/account')).statusCode).toBe(200)
  })

  it('refuses a replayed code; a recovery code works once; return_to is kept', async () => {
    const t = await setup()
    const { client, user, clock, secret, recoveryCodes } = t
    await password(client, user)
    const code = await totpAt(secret, clock)
    expect((await client.post(STEP, { code })).statusCode).toBe(303)

    const other = pageClient(t.app, ORIGIN)
    await password(other, user, '/signed-out?from=x')
    const replay = await other.post(STEP, { code, return_to: '/signed-out?from=x' })
    expect(replay.statusCode).toBe(400)
    expect(replay.body).toContain('The code is incorrect or was already used.')
    expect(other.jar.cookies.has('keygate_session')).toBe(false)

    const recovery = await other.get(`${STEP}?method=recovery&return_to=%2Fsigned-out`)
    expect(recovery.body).toContain('name="recovery_code"')
    const [spare = ''] = recoveryCodes
    const ok = await other.post(STEP, { recovery_code: spare, return_to: '/signed-out?from=x' })
    expect(ok.statusCode).toBe(200)
    expect(ok.body).toContain('content="0;url=/signed-out?from=x"')
    expect(other.jar.cookies.has('keygate_session')).toBe(true)

    const third = pageClient(t.app, ORIGIN)
    await password(third, user)
    const spent = await third.post(STEP, { recovery_code: spare })
    expect(spent.statusCode).toBe(400)
    expect(spent.body).toContain('This recovery code is incorrect or was already used.')
    // A recovery code typed in the code field counts as one.
    const typed = await third.post(STEP, { code: recoveryCodes[1] ?? '' })
    expect(typed.statusCode).toBe(303)
  })

  it('five wrong codes kill the pending sign-in', async () => {
    const { client, user, clock, secret } = await setup()
    await password(client, user)
    for (let i = 0; i < 5; i++) {
      const wrong = await client.post(STEP, { code: '000000' })
      expect(wrong.statusCode).toBe(400)
    }
    // The step's own page offers no form any more: the token comes from the sign-in form.
    const dead = await client.post(STEP, { code: await totpAt(secret, clock) }, { from: '/signin' })
    expect(dead.statusCode).toBe(400)
    expect(dead.body).toContain('This sign-in has expired or was stopped.')
    expect(client.jar.cookies.has('keygate_session')).toBe(false)
    expect(client.jar.cookies.has('keygate_signin_challenge')).toBe(false)
  })

  it('code attempts are throttled like the API (the 429 page)', async () => {
    const { client, user } = await setup(throttled({ accountClientFailures: 3 }))
    await password(client, user)
    const token = csrfOf((await client.get(STEP)).body)
    const statuses: number[] = []
    for (let i = 0; i < 5; i++) {
      statuses.push((await client.post(STEP, { code: '000000' }, { csrf: token })).statusCode)
    }
    expect(statuses).toContain(429)
    const page = await client.post(STEP, { code: '000000' }, { csrf: token })
    expect(page.statusCode).toBe(429)
    expect(page.body).toContain('There have been too many attempts.')
    expect(client.jar.cookies.has('keygate_session')).toBe(false)
  })

  it('the pending sign-in expires after 5 minutes', async () => {
    const { client, user, clock, secret } = await setup()
    await password(client, user)
    clock.advanceSeconds(301)
    const step = await client.get(STEP)
    expect(step.body).toContain('This sign-in has expired or was stopped.')
    const late = await client.post(STEP, { code: await totpAt(secret, clock) }, { from: '/signin' })
    expect(late.statusCode).toBe(400)
    expect(late.body).toContain('This sign-in has expired or was stopped.')
    expect(client.jar.cookies.has('keygate_session')).toBe(false)
  })

  it('is bound to its browser and to the page: no cookie, another, or an API mfa_token fails', async () => {
    const t = await setup()
    const { client, user, clock, secret, app } = t
    await password(client, user)
    const challenge = client.jar.cookies.get('keygate_signin_challenge') ?? ''

    // Another browser with no challenge of its own.
    const stranger = pageClient(app, ORIGIN)
    const none = await stranger.post(
      STEP,
      { code: await totpAt(secret, clock) },
      { from: '/signin' },
    )
    expect(none.body).toContain('This sign-in has expired or was stopped.')

    // The page's challenge is no mfa_token of the API.
    const api = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login/mfa',
      payload: { mfa_token: challenge, otp: await totpAt(secret, clock) },
    })
    expect(api.statusCode).toBe(401)

    // And the API's mfa_token does not open the page's step.
    const login = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: user.email, password: user.password },
    })
    const forged = pageClient(app, ORIGIN)
    forged.jar.cookies.set('keygate_signin_challenge', login.json().mfa_token)
    const refused = await forged.post(
      STEP,
      { code: await totpAt(secret, clock) },
      { from: '/signin' },
    )
    expect(refused.body).toContain('This sign-in has expired or was stopped.')
    expect(forged.jar.cookies.has('keygate_session')).toBe(false)

    // The real one still works.
    const ok = await client.post(STEP, { code: await totpAt(secret, clock) })
    expect(ok.statusCode).toBe(303)
  })

  it('an account deactivated during the second step does not sign in', async () => {
    const t = await setup()
    const { client, user, clock, secret } = t
    await password(client, user)
    await t.database.db
      .updateTable('users')
      .set({ is_active: 0 })
      .where('id', '=', user.id)
      .execute()
    const res = await client.post(STEP, { code: await totpAt(secret, clock) }, { from: '/signin' })
    expect(res.statusCode).toBe(400)
    expect(res.body).toContain('This sign-in has expired or was stopped.')
    expect(client.jar.cookies.has('keygate_session')).toBe(false)
  })

  it('refuses a post without its form token or from another origin', async () => {
    const { client, user, clock, secret } = await setup()
    await password(client, user)
    const code = await totpAt(secret, clock)
    const bare = await client.post(STEP, { code }, { csrf: null })
    expect(bare.statusCode).toBe(403)
    const foreign = await client.post(STEP, { code }, { origin: 'https://evil.example' })
    expect(foreign.statusCode).toBe(403)
    expect(client.jar.cookies.has('keygate_session')).toBe(false)
    const resend = await client.post(
      '/signin/resend-verification',
      { username: user.email },
      { csrf: null },
    )
    expect(resend.statusCode).toBe(403)
  })

  it('an account without a factor still signs in with the password alone', async () => {
    const t = await buildTestApp({ publicUrl: ORIGIN })
    const user = await createUser(t.app)
    const client = pageClient(t.app, ORIGIN)
    const res = await password(client, user)
    expect(res.headers.location).toBe('/account')
    const signed = await sessionOf(t, client.jar.cookies.get('keygate_session'))
    expect(signed?.session.amr).toEqual(['pwd'])
  })
})

describe('sign-in page: REQUIRE_VERIFIED_EMAIL', () => {
  it('a correct password on an unverified account offers a new link, answered alike for all', async () => {
    const smtp = await startSmtpServer()
    const t = await buildTestApp({
      publicUrl: ORIGIN,
      requireVerifiedEmail: true,
      smtpUrl: smtp.url,
      mailFrom: 'Keygate <keygate@example.com>',
    })
    const user = await createUser(t.app)
    await smtp.nextMail() // signup's own link
    const client = pageClient(t.app, ORIGIN)

    const wrong = await client.post('/signin', { username: user.email, password: 'Wrong-pass-1' })
    expect(wrong.statusCode).toBe(400)
    expect(wrong.body).not.toContain('not verified')

    const res = await password(client, user)
    expect(res.statusCode).toBe(403)
    expect(res.body).toContain('Your email address is not verified yet.')
    expect(res.body).toContain('action="/signin/resend-verification"')
    expect(client.jar.cookies.has('keygate_session')).toBe(false)

    const answers = []
    for (const username of [user.email, 'nobody@example.com']) {
      const sent = await client.post(
        '/signin/resend-verification',
        { username },
        { from: '/signin' },
      )
      expect(sent.statusCode).toBe(200)
      answers.push(sent.body.replace(/name="csrf_token" value="[^"]*"/g, ''))
    }
    expect(answers[0]).toBe(answers[1])
    expect(answers[0]).toContain('a verification link has been sent')
    const mail = await smtp.nextMail()
    expect(mail.to).toEqual([user.email])
    expect(mail.raw).toMatch(/^Subject: Verify your email address$/m)
  })
})
