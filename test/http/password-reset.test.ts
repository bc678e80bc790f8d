import { describe, expect, it } from 'vitest'
import { createDeps } from '../../src/deps.js'
import { issueResetLink, meStatus, tokenOf } from '../helpers/accounts.js'
import { buildTestApp } from '../helpers/app.js'
import { createUser, loginAs, randomEmail, strongPassword } from '../helpers/factories.js'
import { must } from '../helpers/must.js'
import { isVerificationMail, resetTokenIn, startSmtpServer } from '../helpers/smtp.js'

const REQUEST = '/api/v1/auth/password-reset/request'
const CONFIRM = '/api/v1/auth/password-reset/confirm'
const INVALID = { detail: 'Invalid or expired token' }

describe('password reset by mail', () => {
  it('mails a one-time link that sets the password and logs out every session', async () => {
    const smtp = await startSmtpServer({ ignore: isVerificationMail })
    const { app } = await buildTestApp({
      smtpUrl: smtp.url,
      mailFrom: 'Keygate <keygate@example.com>',
      publicUrl: 'https://auth.example.com',
    })
    const user = await createUser(app)
    const a = await loginAs(app, user)
    const b = await loginAs(app, user)

    const res = await app.inject({
      method: 'POST',
      url: REQUEST,
      payload: { email: user.email.toUpperCase() },
    })
    expect(res.statusCode).toBe(202)
    const mail = await smtp.nextMail()
    expect(mail.to).toEqual([user.email])
    expect(mail.from).toBe('keygate@example.com')
    expect(mail.raw).toMatch(/^Subject: Reset your Keygate password$/m)
    // Plain 7bit text: the link reads as-is, without quoted-printable decoding.
    expect(mail.raw).toMatch(/^Content-Transfer-Encoding: 7bit$/m)
    expect(mail.raw).toContain('https://auth.example.com/reset-password?token=')
    const token = resetTokenIn(mail.raw)
    expect(Buffer.from(token, 'base64url').length).toBeGreaterThanOrEqual(32)

    const next = strongPassword()
    const ok = await app.inject({
      method: 'POST',
      url: CONFIRM,
      payload: { token, new_password: next },
    })
    expect(ok.statusCode, ok.body).toBe(204)
    expect(await meStatus(app, a.headers)).toBe(401)
    expect(await meStatus(app, b.headers)).toBe(401)
    await loginAs(app, { email: user.email, password: next })

    const again = await app.inject({
      method: 'POST',
      url: CONFIRM,
      payload: { token, new_password: strongPassword() },
    })
    expect(again.statusCode).toBe(400)
    expect(again.json()).toEqual(INVALID)
    await loginAs(app, { email: user.email, password: next })
  })

  it('answers an unknown email exactly as a known one, and mails nobody', async () => {
    const smtp = await startSmtpServer({ ignore: isVerificationMail })
    const { app } = await buildTestApp({ smtpUrl: smtp.url })
    const user = await createUser(app)
    const known = await app.inject({ method: 'POST', url: REQUEST, payload: { email: user.email } })
    const unknown = await app.inject({
      method: 'POST',
      url: REQUEST,
      payload: { email: randomEmail() },
    })
    const comparable = (r: typeof known) => {
      const { date, 'x-request-id': _id, ...headers } = r.headers
      return { status: r.statusCode, body: r.body, headers }
    }
    expect(comparable(unknown)).toEqual(comparable(known))
    expect(known.statusCode).toBe(202)
    expect(known.json().detail).toEqual(expect.any(String))
    await smtp.nextMail()
    await app.close() // drains background work: nothing more is coming
    expect(smtp.inbox).toHaveLength(1)
    expect(smtp.inbox[0]?.to).toEqual([user.email])
  })

  it('answers before the mail server has accepted the mail', async () => {
    const smtp = await startSmtpServer({ hold: true, ignore: isVerificationMail })
    const { app } = await buildTestApp({ smtpUrl: smtp.url })
    const user = await createUser(app)
    const res = await app.inject({ method: 'POST', url: REQUEST, payload: { email: user.email } })
    expect(res.statusCode).toBe(202)
    expect(smtp.inbox).toHaveLength(0)
    smtp.release()
    expect((await smtp.nextMail()).to).toEqual([user.email])
  })

  it('logs a mail failure without the token', async () => {
    const lines: string[] = []
    const { app } = await buildTestApp(
      { smtpUrl: 'smtp://127.0.0.1:1', logLevel: 'error' },
      { logStream: { write: (l) => lines.push(l) } },
    )
    const user = await createUser(app)
    const res = await app.inject({ method: 'POST', url: REQUEST, payload: { email: user.email } })
    expect(res.statusCode).toBe(202)
    await app.close()
    const failure = lines
      .map((l) => JSON.parse(l))
      .find((l) => l.msg === 'password reset mail not sent')
    expect(failure?.err.message).toEqual(expect.any(String))
    expect(lines.join('\n')).not.toMatch(/token=|reset-password/)
  })

  it('issues nothing without SMTP, so a request cannot cancel a link an operator printed', async () => {
    const t = await buildTestApp()
    const user = await createUser(t.app)
    const token = tokenOf((await issueResetLink(t, user.email))!)
    const res = await t.app.inject({ method: 'POST', url: REQUEST, payload: { email: user.email } })
    expect(res.statusCode).toBe(202)
    // The same request through the service, waited for to the end.
    const deps = await createDeps(t.config, { database: t.database, clock: t.clock })
    deps.services.passwordReset.request(user.email, { error: () => {} })
    await deps.close()
    const ok = await t.app.inject({
      method: 'POST',
      url: CONFIRM,
      payload: { token, new_password: strongPassword() },
    })
    expect(ok.statusCode).toBe(204)
  })

  it('answers 422 for a malformed email without echoing it', async () => {
    const { app } = await buildTestApp()
    const res = await app.inject({
      method: 'POST',
      url: REQUEST,
      payload: { email: 'not-an-email' },
    })
    expect(res.statusCode).toBe(422)
    expect(res.body).not.toContain('not-an-email')
  })
})

describe('reset tokens', () => {
  it('expire after PASSWORD_RESET_EXPIRE_MINUTES', async () => {
    const t = await buildTestApp({ passwordResetExpireMinutes: 30 })
    const user = await createUser(t.app)
    const first = tokenOf((await issueResetLink(t, user.email))!)
    t.clock.advanceSeconds(29 * 60)
    const stillOk = await t.app.inject({
      method: 'POST',
      url: CONFIRM,
      payload: { token: first, new_password: strongPassword() },
    })
    expect(stillOk.statusCode).toBe(204)
    const second = tokenOf((await issueResetLink(t, user.email))!)
    t.clock.advanceSeconds(30 * 60)
    const late = await t.app.inject({
      method: 'POST',
      url: CONFIRM,
      payload: { token: second, new_password: strongPassword() },
    })
    expect(late.statusCode).toBe(400)
    expect(late.json()).toEqual(INVALID)
  })

  it('stay valid when a newer one is issued; using one ends them all', async () => {
    const t = await buildTestApp()
    const user = await createUser(t.app)
    const older = tokenOf((await issueResetLink(t, user.email))!)
    const newer = tokenOf((await issueResetLink(t, user.email))!)
    const password = strongPassword()
    const ok = await t.app.inject({
      method: 'POST',
      url: CONFIRM,
      payload: { token: older, new_password: password },
    })
    expect(ok.statusCode).toBe(204)
    const res = await t.app.inject({
      method: 'POST',
      url: CONFIRM,
      payload: { token: newer, new_password: strongPassword() },
    })
    expect(res.json()).toEqual(INVALID)
  })

  it('stop working when the password is changed', async () => {
    const t = await buildTestApp()
    const user = await createUser(t.app)
    const token = tokenOf((await issueResetLink(t, user.email))!)
    const { headers } = await loginAs(t.app, user)
    const next = strongPassword()
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/users/me/password',
      headers,
      payload: { current_password: user.password, new_password: next },
    })
    const res = await t.app.inject({
      method: 'POST',
      url: CONFIRM,
      payload: { token, new_password: strongPassword() },
    })
    expect(res.json()).toEqual(INVALID)
    await loginAs(t.app, { email: user.email, password: next })
  })

  it('are stored only as SHA-256, and unknown or forged ones are refused', async () => {
    const t = await buildTestApp()
    const user = await createUser(t.app)
    const token = tokenOf((await issueResetLink(t, user.email))!)
    const rows = await t.database.db.selectFrom('password_reset_tokens').selectAll().execute()
    expect(rows).toHaveLength(1)
    expect(JSON.stringify(rows)).not.toContain(token)
    expect(rows[0]?.token_hash).toMatch(/^[0-9a-f]{64}$/)
    for (const forged of [must(rows[0]).token_hash, `${token}x`, 'x']) {
      const res = await t.app.inject({
        method: 'POST',
        url: CONFIRM,
        payload: { token: forged, new_password: strongPassword() },
      })
      expect(res.statusCode).toBe(400)
      expect(res.json()).toEqual(INVALID)
    }
  })

  it('work once when two confirmations race', async () => {
    const t = await buildTestApp()
    const user = await createUser(t.app)
    const token = tokenOf((await issueResetLink(t, user.email))!)
    const results = await Promise.all(
      [1, 2, 3].map(() =>
        t.app.inject({
          method: 'POST',
          url: CONFIRM,
          payload: { token, new_password: strongPassword() },
        }),
      ),
    )
    expect(results.map((r) => r.statusCode).sort()).toEqual([204, 400, 400])
  })
})
