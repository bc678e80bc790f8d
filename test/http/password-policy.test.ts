import { describe, expect, it, onTestFinished } from 'vitest'
import { buildApp } from '../../src/app.js'
import { issueResetLink, tokenOf } from '../helpers/accounts.js'
import { buildTestApp } from '../helpers/app.js'
import { testConfig } from '../helpers/config.js'
import { createUser, loginAs, randomEmail } from '../helpers/factories.js'

function expectTooCommon(res: { statusCode: number; json(): any; body: string }, field: string) {
  expect(res.statusCode, res.body).toBe(422)
  expect(res.json()).toEqual({
    detail: [
      { loc: ['body', field], msg: expect.stringMatching(/too common/), type: 'value_error' },
    ],
  })
}

describe('common passwords are refused with a 422 that says why', () => {
  it('at signup, whatever the case', async () => {
    const { app } = await buildTestApp()
    for (const password of ['password1', 'PassWord1', 'qwertyuiop']) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/signup',
        payload: { email: randomEmail(), password },
      })
      expectTooCommon(res, 'password')
      expect(res.body).not.toContain(password)
    }
  })

  it('at password change, leaving the old password in place', async () => {
    const { app } = await buildTestApp()
    const user = await createUser(app)
    const { headers } = await loginAs(app, user)
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/users/me/password',
      headers,
      payload: { current_password: user.password, new_password: 'password1' },
    })
    expectTooCommon(res, 'new_password')
    await loginAs(app, user)
  })

  it('at reset, leaving the token usable', async () => {
    const t = await buildTestApp()
    const user = await createUser(t.app)
    const token = tokenOf((await issueResetLink(t, user.email))!)
    const url = '/api/v1/auth/password-reset/confirm'
    const res = await t.app.inject({
      method: 'POST',
      url,
      payload: { token, new_password: 'password1' },
    })
    expectTooCommon(res, 'new_password')
    const ok = await t.app.inject({
      method: 'POST',
      url,
      payload: { token, new_password: 'a-much-better-passphrase' },
    })
    expect(ok.statusCode, ok.body).toBe(204)
  })

  it('but not at login: older short or common passwords still log in', async () => {
    const t = await buildTestApp({
      passwordMinLength: 4,
      firstSuperuserEmail: 'ops@example.com',
      firstSuperuserPassword: 'password1',
    })
    const user = await createUser(t.app, { password: 'k3Y!' })
    // The same database under a stricter policy.
    const strict = await buildApp(testConfig({ passwordMinLength: 12 }), {
      database: t.database,
      clock: t.clock,
    })
    onTestFinished(() => strict.close())
    await loginAs(strict, user)
    await loginAs(strict, { email: 'ops@example.com', password: 'password1' })
  })

  it('applies PASSWORD_MIN_LENGTH to every new password', async () => {
    const t = await buildTestApp({ passwordMinLength: 12 })
    const short = 'Pw-7Hq2mZt9' // 11 characters
    const signup = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/signup',
      payload: { email: randomEmail(), password: short },
    })
    expect(signup.statusCode).toBe(422)
    expect(signup.json().detail[0]).toMatchObject({ type: 'string_too_short' })
    const user = await createUser(t.app, { password: `${short}x` })
    const { headers } = await loginAs(t.app, user)
    const change = await t.app.inject({
      method: 'POST',
      url: '/api/v1/users/me/password',
      headers,
      payload: { current_password: user.password, new_password: short },
    })
    expect(change.statusCode).toBe(422)
    const token = tokenOf((await issueResetLink(t, user.email))!)
    const reset = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/password-reset/confirm',
      payload: { token, new_password: short },
    })
    expect(reset.statusCode).toBe(422)
  })
})
