import { decodeJwt } from 'jose'
import { generate } from 'otplib'
import { describe, expect, it } from 'vitest'
import { buildTestApp } from '../helpers/app.js'
import { createUser, loginAs } from '../helpers/factories.js'
import { enableTotp, totpAt } from '../helpers/totp.js'

const MFA = '/api/v1/users/me/mfa'

describe('TOTP enrolment (SPEC §9)', () => {
  it('enrol with the password, confirm with a code from the secret, get 10 recovery codes', async () => {
    const { app, clock } = await buildTestApp()
    const user = await createUser(app)
    const { headers } = await loginAs(app, user)

    const before = await app.inject({ method: 'GET', url: MFA, headers })
    expect(before.json()).toEqual({ totp: false, passkeys: [], recovery_codes_left: 0 })

    const wrongPw = await app.inject({
      method: 'POST',
      url: `${MFA}/totp`,
      headers,
      payload: { password: 'not-the-password' },
    })
    expect(wrongPw.statusCode).toBe(400)
    expect(wrongPw.json()).toEqual({ detail: 'Incorrect password' })

    const enrol = await app.inject({
      method: 'POST',
      url: `${MFA}/totp`,
      headers,
      payload: { password: user.password },
    })
    expect(enrol.statusCode, enrol.body).toBe(200)
    expect(enrol.headers['cache-control']).toContain('no-store')
    const { secret, otpauth_uri, qr_svg } = enrol.json()
    expect(secret).toMatch(/^[A-Z2-7]{32}$/)
    expect(otpauth_uri).toMatch(/^otpauth:\/\/totp\/Keygate:/)
    expect(otpauth_uri).toContain(`secret=${secret}`)
    expect(qr_svg).toMatch(/^<svg[\s\S]*<\/svg>\s*$/)
    // Not on until confirmed.
    expect((await app.inject({ method: 'GET', url: MFA, headers })).json().totp).toBe(false)

    const wrongCode = await app.inject({
      method: 'POST',
      url: `${MFA}/totp/confirm`,
      headers,
      payload: {
        code: (Number(await totpAt(secret, clock)) + 1).toString().padStart(6, '0').slice(-6),
      },
    })
    expect(wrongCode.statusCode).toBe(400)
    expect(wrongCode.json()).toEqual({ detail: 'Incorrect code' })

    const ok = await app.inject({
      method: 'POST',
      url: `${MFA}/totp/confirm`,
      headers,
      payload: { code: await totpAt(secret, clock) },
    })
    expect(ok.statusCode, ok.body).toBe(200)
    const codes: string[] = ok.json().recovery_codes
    expect(codes).toHaveLength(10)
    expect(new Set(codes).size).toBe(10)
    expect(await app.inject({ method: 'GET', url: MFA, headers }).then((r) => r.json())).toEqual({
      totp: true,
      passkeys: [],
      recovery_codes_left: 10,
    })

    const again = await app.inject({
      method: 'POST',
      url: `${MFA}/totp`,
      headers,
      payload: { password: user.password },
    })
    expect(again.statusCode).toBe(409)
  })

  it('accepts a code of the step before and after, not two steps away', async () => {
    const { app, clock } = await buildTestApp()
    const user = await createUser(app)
    const { headers } = await loginAs(app, user)
    const enrol = await app.inject({
      method: 'POST',
      url: `${MFA}/totp`,
      headers,
      payload: { password: user.password },
    })
    const { secret } = enrol.json()
    const confirm = (code: string) =>
      app.inject({ method: 'POST', url: `${MFA}/totp/confirm`, headers, payload: { code } })
    expect((await confirm(await totpAt(secret, clock, -60))).statusCode).toBe(400)
    expect((await confirm(await totpAt(secret, clock, 60))).statusCode).toBe(400)
    expect((await confirm(await totpAt(secret, clock, -30))).statusCode).toBe(200)
  })

  it('disable and regenerate need the password and a current code, and say which was wrong', async () => {
    const { app, clock } = await buildTestApp()
    const user = await createUser(app)
    const { headers } = await loginAs(app, user)
    const { secret, recoveryCodes } = await enableTotp(app, clock, headers, user.password)

    const regen = (password: string, code: string) =>
      app.inject({
        method: 'POST',
        url: `${MFA}/recovery-codes`,
        headers,
        payload: { password, code },
      })
    expect((await regen('wrong-password', await totpAt(secret, clock))).json()).toEqual({
      detail: 'Incorrect password',
    })
    const badCode = await regen(user.password, '000000')
    expect(badCode.statusCode).toBe(400)
    expect(badCode.json()).toEqual({ detail: 'Incorrect code' })
    const fresh = await regen(user.password, await totpAt(secret, clock))
    expect(fresh.statusCode, fresh.body).toBe(200)
    const next: string[] = fresh.json().recovery_codes
    expect(next).toHaveLength(10)
    expect(next.some((c) => recoveryCodes.includes(c))).toBe(false)
    // The code just used is spent: the same one again is a replay.
    clock.advanceSeconds(1)
    expect((await regen(user.password, await totpAt(secret, clock))).json()).toEqual({
      detail: 'Incorrect code',
    })

    clock.advanceSeconds(30)
    const del = (password: string, code: string) =>
      app.inject({ method: 'DELETE', url: `${MFA}/totp`, headers, payload: { password, code } })
    expect((await del('wrong-password', await totpAt(secret, clock))).json()).toEqual({
      detail: 'Incorrect password',
    })
    expect((await del(user.password, '123456')).json()).toEqual({ detail: 'Incorrect code' })
    const gone = await del(user.password, await totpAt(secret, clock))
    expect(gone.statusCode, gone.body).toBe(204)
    expect((await app.inject({ method: 'GET', url: MFA, headers })).json()).toEqual({
      totp: false,
      passkeys: [],
      recovery_codes_left: 0,
    })
    // Signing in is back to the password alone.
    await loginAs(app, user)
    const notOn = await del(user.password, await totpAt(secret, clock, 30))
    expect(notOn.json()).toEqual({ detail: 'TOTP is not enabled' })
  })

  it('the secret is stored sealed, not in clear', async () => {
    const { app, clock, database } = await buildTestApp()
    const user = await createUser(app)
    const { headers } = await loginAs(app, user)
    const { secret } = await enableTotp(app, clock, headers, user.password)
    const row = await database.db
      .selectFrom('totp_factors')
      .selectAll()
      .where('user_id', '=', user.id)
      .executeTakeFirstOrThrow()
    expect(row.secret_sealed).not.toContain(secret)
    expect(row.secret_sealed.startsWith('v1.')).toBe(true)
    const codes = await database.db.selectFrom('recovery_codes').selectAll().execute()
    expect(codes).toHaveLength(10)
    expect(codes.every((c) => /^[0-9a-f]{64}$/.test(c.code_hash))).toBe(true)
  })

  it('code attempts are throttled like passwords', async () => {
    const { throttled } = await import('../helpers/rate-limit.js')
    const { app, clock } = await buildTestApp(throttled())
    const user = await createUser(app)
    const { headers } = await loginAs(app, user)
    const { secret } = await enableTotp(app, clock, headers, user.password)
    const statuses: number[] = []
    for (let i = 0; i < 7; i++) {
      const r = await app.inject({
        method: 'POST',
        url: `${MFA}/recovery-codes`,
        headers,
        payload: { password: user.password, code: '000000' },
      })
      statuses.push(r.statusCode)
    }
    expect(statuses).toContain(429)
    // A generate() call from otplib with the secret still gives the right code; it is just refused now.
    expect(await generate({ secret, epoch: Math.floor(clock.now().getTime() / 1000) })).toMatch(
      /^\d{6}$/,
    )
  })

  it('password sign-ins carry amr ["pwd"]', async () => {
    const { app } = await buildTestApp()
    const user = await createUser(app)
    const { tokens } = await loginAs(app, user)
    expect(decodeJwt(tokens.access_token).amr).toEqual(['pwd'])
  })
})
