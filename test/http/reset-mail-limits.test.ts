import { describe, expect, it } from 'vitest'
import { buildTestApp } from '../helpers/app.js'
import { createUser, strongPassword } from '../helpers/factories.js'
import { throttled } from '../helpers/rate-limit.js'
import { isVerificationMail, resetTokenIn, startSmtpServer } from '../helpers/smtp.js'

// Issue 14, medium 3: reset mails are spaced out per account, and a new
// request never cancels the link already mailed.

const REQUEST = '/api/v1/auth/password-reset/request'
const CONFIRM = '/api/v1/auth/password-reset/confirm'

describe('password reset mail limits', () => {
  it('one mail a minute and a few an hour per account; the answer never changes', async () => {
    const smtp = await startSmtpServer({ ignore: isVerificationMail })
    const { app, clock, database } = await buildTestApp(
      throttled({ resetMailIntervalSeconds: 60, resetMailsPerHour: 3 }, { smtpUrl: smtp.url }),
    )
    const user = await createUser(app)
    const ask = async () => {
      const res = await app.inject({ method: 'POST', url: REQUEST, payload: { email: user.email } })
      expect(res.statusCode).toBe(202)
      return res.body
    }
    const bodies = new Set<string>()
    // A burst: one mail.
    for (let i = 0; i < 20; i++) bodies.add(await ask())
    const first = resetTokenIn((await smtp.nextMail()).raw)
    // A minute later: one more, and the first link still works beside it.
    clock.advanceSeconds(61)
    for (let i = 0; i < 5; i++) bodies.add(await ask())
    const second = resetTokenIn((await smtp.nextMail()).raw)
    expect(second).not.toBe(first)
    clock.advanceSeconds(61)
    bodies.add(await ask())
    await smtp.nextMail()
    // The hourly cap (3) is reached: spaced requests send nothing more.
    for (let i = 0; i < 3; i++) {
      clock.advanceSeconds(61)
      bodies.add(await ask())
    }
    expect(bodies.size).toBe(1)
    const live = await database.db
      .selectFrom('password_reset_tokens')
      .select('token_hash')
      .where('user_id', '=', user.id)
      .execute()
    expect(live).toHaveLength(3)

    // The oldest link is still good after newer requests.
    const ok = await app.inject({
      method: 'POST',
      url: CONFIRM,
      payload: { token: first, new_password: strongPassword() },
    })
    expect(ok.statusCode, ok.body).toBe(204)
    await app.close() // waits for mail still being sent
    expect(smtp.inbox).toHaveLength(3)
  })

  it('a trickle of requests cannot keep the owner from finishing a reset', async () => {
    const smtp = await startSmtpServer({ ignore: isVerificationMail })
    const { app, clock } = await buildTestApp(throttled({}, { smtpUrl: smtp.url }))
    const user = await createUser(app)
    await app.inject({ method: 'POST', url: REQUEST, payload: { email: user.email } })
    const token = resetTokenIn((await smtp.nextMail()).raw)
    for (let i = 0; i < 4; i++) {
      clock.advanceSeconds(61)
      await app.inject({ method: 'POST', url: REQUEST, payload: { email: user.email } })
      await smtp.nextMail()
    }
    const res = await app.inject({
      method: 'POST',
      url: CONFIRM,
      payload: { token, new_password: strongPassword() },
    })
    expect(res.statusCode).toBe(204)
  })
})
