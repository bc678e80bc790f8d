import type { FastifyInstance } from 'fastify'
import { describe, expect, it } from 'vitest'
import { buildTestApp } from '../helpers/app.js'
import { createUser, form, loginAs, randomEmail } from '../helpers/factories.js'
import { throttled } from '../helpers/rate-limit.js'
import { type ReceivedMail, startSmtpServer, verifyTokenIn as tokenIn } from '../helpers/smtp.js'

const REQUEST = '/api/v1/auth/verify-email/request'
const CONFIRM = '/api/v1/auth/verify-email/confirm'
const DAY_MS = 86_400_000

const verifyTokenIn = (mail: ReceivedMail) => tokenIn(mail.raw)

const me = async (app: FastifyInstance, headers: Record<string, string>) =>
  (await app.inject({ method: 'GET', url: '/api/v1/users/me', headers })).json()

const confirm = (app: FastifyInstance, token: string) =>
  app.inject({ method: 'POST', url: CONFIRM, payload: { token } })

async function smtpApp(over = {}) {
  const smtp = await startSmtpServer()
  const t = await buildTestApp({
    smtpUrl: smtp.url,
    mailFrom: 'Keygate <keygate@example.com>',
    publicUrl: 'https://auth.example.com',
    ...over,
  })
  return { ...t, smtp }
}

describe('email verification', () => {
  it('signup mails a one-time link (text + HTML) that verifies the address', async () => {
    const { app, smtp } = await smtpApp()
    const user = await createUser(app)
    const { headers } = await loginAs(app, user)
    expect((await me(app, headers)).email_verified).toBe(false)

    const mail = await smtp.nextMail()
    expect(mail.to).toEqual([user.email])
    expect(mail.raw).toMatch(/^Subject: Verify your email address$/m)
    expect(mail.raw).toMatch(/Content-Type: multipart\/alternative/)
    expect(mail.raw).toMatch(/Content-Type: text\/plain; charset=utf-8/)
    expect(mail.raw).toMatch(/Content-Type: text\/html; charset=utf-8/)
    expect(mail.raw).toContain('<a href="https://auth.example.com/verify-email?token=')
    const token = verifyTokenIn(mail)

    const ok = await confirm(app, token)
    expect(ok.statusCode, ok.body).toBe(200)
    expect(ok.json()).toMatchObject({ id: user.id, email: user.email, email_verified: true })
    expect((await me(app, headers)).email_verified).toBe(true)

    const again = await confirm(app, token)
    expect(again.statusCode).toBe(400)
    expect(again.json()).toEqual({ detail: 'Invalid or expired token' })
  })

  it('a link dies after 24 hours; a bad token is a 400', async () => {
    const { app, smtp, clock } = await smtpApp()
    await createUser(app)
    const token = verifyTokenIn(await smtp.nextMail())
    clock.advance(DAY_MS + 1000)
    expect((await confirm(app, token)).statusCode).toBe(400)
    expect((await confirm(app, 'not-a-token')).json()).toEqual({
      detail: 'Invalid or expired token',
    })
  })

  it('resend answers the same whatever the state, and needs a bearer', async () => {
    const { app, smtp, clock } = await smtpApp(throttled())
    const user = await createUser(app)
    await smtp.nextMail()
    const { headers } = await loginAs(app, user)
    expect((await app.inject({ method: 'POST', url: REQUEST })).statusCode).toBe(401)

    clock.advance(10 * 60_000)
    const first = await app.inject({ method: 'POST', url: REQUEST, headers })
    expect(first.statusCode).toBe(202)
    const token = verifyTokenIn(await smtp.nextMail())
    // Spaced per account: asked again at once, no new mail but the same answer.
    const spaced = await app.inject({ method: 'POST', url: REQUEST, headers })
    expect(spaced.statusCode).toBe(202)
    expect(spaced.json()).toEqual(first.json())
    expect((await confirm(app, token)).statusCode).toBe(200)
    clock.advance(10 * 60_000)
    const verified = await app.inject({ method: 'POST', url: REQUEST, headers })
    expect(verified.statusCode).toBe(202)
    expect(verified.json()).toEqual(first.json())
    await new Promise((r) => setTimeout(r, 200))
    expect(smtp.inbox).toHaveLength(2)
  })

  it('REQUIRE_VERIFIED_EMAIL refuses a correct password on an unverified account only', async () => {
    const { app, smtp } = await smtpApp({ requireVerifiedEmail: true })
    const user = await createUser(app)
    const token = verifyTokenIn(await smtp.nextMail())
    const tokenRes = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/token',
      ...form({ username: user.email, password: user.password }),
    })
    expect(tokenRes.statusCode).toBe(403)
    expect(tokenRes.json()).toEqual({ detail: 'Email not verified' })
    const login = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: user.email, password: user.password },
    })
    expect(login.statusCode).toBe(403)
    expect(login.json()).toEqual({ detail: 'Email not verified' })
    const wrong = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/token',
      ...form({ username: user.email, password: 'not-the-password' }),
    })
    expect(wrong.statusCode).toBe(400)
    expect(wrong.json().error).toBe('invalid_grant')
    const wrongJson = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: user.email, password: 'not-the-password' },
    })
    expect(wrongJson.statusCode).toBe(401)

    expect((await confirm(app, token)).statusCode).toBe(200)
    await loginAs(app, user)
  })

  it('REQUIRE_VERIFIED_EMAIL is off by default', async () => {
    const { app } = await buildTestApp()
    const user = await createUser(app)
    await loginAs(app, user)
  })
})

describe('changing the email', () => {
  it('mails the new address a link, tells the old one, and changes only when followed', async () => {
    const { app, smtp } = await smtpApp()
    const user = await createUser(app)
    await smtp.nextMail()
    const { headers } = await loginAs(app, user)
    const next = randomEmail()

    const res = await app.inject({
      method: 'PATCH',
      url: '/api/v1/users/me',
      headers,
      payload: { email: next, current_password: user.password },
    })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json().email).toBe(user.email)

    const mails = [await smtp.nextMail(), await smtp.nextMail()]
    const toNew = mails.find((m) => m.to[0] === next)!
    const toOld = mails.find((m) => m.to[0] === user.email)!
    expect(toNew.raw).toMatch(/^Subject: Confirm your new email address$/m)
    expect(toOld.raw).toMatch(/^Subject: Your Keygate email address is being changed$/m)
    expect(toOld.raw).not.toContain('verify-email?token=')
    expect(toOld.raw).toMatch(/Content-Type: text\/html/)

    // Until the link is followed, the old address stays the login.
    await loginAs(app, user)
    const early = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/token',
      ...form({ username: next, password: user.password }),
    })
    expect(early.statusCode).toBe(400)

    const ok = await confirm(app, verifyTokenIn(toNew))
    expect(ok.statusCode, ok.body).toBe(200)
    expect(ok.json()).toMatchObject({ email: next, email_verified: true })
    await loginAs(app, { email: next, password: user.password })
    const old = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/token',
      ...form({ username: user.email, password: user.password }),
    })
    expect(old.statusCode).toBe(400)
  })

  it('needs the password, and a taken address is a 409', async () => {
    const { app, smtp } = await smtpApp()
    const user = await createUser(app)
    const other = await createUser(app)
    const { headers } = await loginAs(app, user)
    const noPw = await app.inject({
      method: 'PATCH',
      url: '/api/v1/users/me',
      headers,
      payload: { email: randomEmail() },
    })
    expect(noPw.statusCode).toBe(400)
    const taken = await app.inject({
      method: 'PATCH',
      url: '/api/v1/users/me',
      headers,
      payload: { email: other.email, current_password: user.password },
    })
    expect(taken.statusCode).toBe(409)
    await new Promise((r) => setTimeout(r, 200))
    // Only the two signup verification mails.
    expect(smtp.inbox).toHaveLength(2)
  })

  it('a newer change request cancels the older link', async () => {
    const { app, smtp } = await smtpApp()
    const user = await createUser(app)
    await smtp.nextMail()
    const { headers } = await loginAs(app, user)
    const change = (email: string) =>
      app.inject({
        method: 'PATCH',
        url: '/api/v1/users/me',
        headers,
        payload: { email, current_password: user.password },
      })
    const first = randomEmail()
    await change(first)
    const firstMails = [await smtp.nextMail(), await smtp.nextMail()]
    const firstToken = verifyTokenIn(firstMails.find((m) => m.to[0] === first)!)
    await change(randomEmail())
    expect((await confirm(app, firstToken)).statusCode).toBe(400)
  })

  it('without SMTP the address changes at once and is unverified', async () => {
    const { app, database } = await buildTestApp()
    const user = await createUser(app)
    await database.db.updateTable('users').set({ email_verified: 1 }).execute()
    const { headers } = await loginAs(app, user)
    expect((await me(app, headers)).email_verified).toBe(true)
    const next = randomEmail()
    const res = await app.inject({
      method: 'PATCH',
      url: '/api/v1/users/me',
      headers,
      payload: { email: next, current_password: user.password },
    })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ email: next, email_verified: false })
  })
})
