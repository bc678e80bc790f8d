import type { FastifyInstance } from 'fastify'
import { decodeJwt } from 'jose'
import { describe, expect, it } from 'vitest'
import { createDeps } from '../../src/deps.js'
import { buildTestApp } from '../helpers/app.js'
import { createUser, form, loginAs, randomEmail, strongPassword } from '../helpers/factories.js'
import { must } from '../helpers/must.js'
import { isVerificationMail, resetTokenIn, startSmtpServer } from '../helpers/smtp.js'
import { enableTotp, totpAt } from '../helpers/totp.js'

const GRANT = 'urn:keygate:params:oauth:grant-type:mfa'

const token = (app: FastifyInstance, fields: Record<string, string>) =>
  app.inject({ method: 'POST', url: '/api/v1/auth/token', ...form(fields) })
const jsonLogin = (app: FastifyInstance, body: Record<string, string>) =>
  app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: body })
const jsonMfa = (app: FastifyInstance, body: Record<string, string>) =>
  app.inject({ method: 'POST', url: '/api/v1/auth/login/mfa', payload: body })

async function userWithTotp(over: Parameters<typeof buildTestApp>[0] = {}) {
  const t = await buildTestApp(over)
  const user = await createUser(t.app)
  const { headers } = await loginAs(t.app, user)
  const factor = await enableTotp(t.app, t.clock, headers, user.password)
  return { ...t, user, headers, ...factor }
}

describe('sign-in with a second factor over the API (SPEC §9)', () => {
  it('token endpoint: mfa_required, then the MFA grant with a TOTP code; replay refused', async () => {
    const { app, clock, user, secret } = await userWithTotp()
    const first = await token(app, { username: user.email, password: user.password })
    expect(first.statusCode).toBe(403)
    const body = first.json()
    expect(Object.keys(body)).toEqual(['error', 'error_description', 'mfa_token', 'detail'])
    expect(body).toMatchObject({ error: 'mfa_required', detail: 'Second factor required' })
    expect(body.error_description).toEqual(expect.any(String))
    expect(body.mfa_token).toMatch(/^[A-Za-z0-9_-]{43}$/)

    const code = await totpAt(secret, clock)
    const ok = await token(app, { grant_type: GRANT, mfa_token: body.mfa_token, otp: code })
    expect(ok.statusCode, ok.body).toBe(200)
    const tokens = ok.json()
    expect(decodeJwt(tokens.access_token).amr).toEqual(['pwd', 'otp', 'mfa'])
    const me = await app.inject({
      method: 'GET',
      url: '/api/v1/users/me',
      headers: { authorization: `Bearer ${tokens.access_token}` },
    })
    expect(me.statusCode).toBe(200)
    // Refreshed tokens keep the session's amr.
    const refreshed = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refresh_token: tokens.refresh_token },
    })
    expect(decodeJwt(refreshed.json().access_token).amr).toEqual(['pwd', 'otp', 'mfa'])

    // The mfa_token is spent.
    const spent = await token(app, { grant_type: GRANT, mfa_token: body.mfa_token, otp: code })
    expect(spent.statusCode).toBe(400)
    expect(spent.json().error).toBe('invalid_grant')

    // The same code with a new mfa_token is a replay.
    const second = (await token(app, { username: user.email, password: user.password })).json()
    const replay = await token(app, { grant_type: GRANT, mfa_token: second.mfa_token, otp: code })
    expect(replay.statusCode).toBe(400)
    expect(replay.json()).toMatchObject({ error: 'invalid_grant' })
    clock.advanceSeconds(30)
    const next = await token(app, {
      grant_type: GRANT,
      mfa_token: second.mfa_token,
      otp: await totpAt(secret, clock),
    })
    expect(next.statusCode, next.body).toBe(200)
  })

  it('JSON: 403 with mfa_token on /auth/login, then /auth/login/mfa; wrong code 401', async () => {
    const { app, clock, user, secret } = await userWithTotp()
    const first = await jsonLogin(app, { email: user.email, password: user.password })
    expect(first.statusCode).toBe(403)
    const { mfa_token, ...rest } = first.json()
    expect(rest).toEqual({ detail: 'Second factor required' })
    const wrong = await jsonMfa(app, { mfa_token, otp: '000000' })
    expect(wrong.statusCode).toBe(401)
    expect(wrong.json()).toEqual({ detail: expect.any(String) })
    const ok = await jsonMfa(app, { mfa_token, otp: await totpAt(secret, clock) })
    expect(ok.statusCode, ok.body).toBe(200)
    expect(decodeJwt(ok.json().access_token).amr).toEqual(['pwd', 'otp', 'mfa'])
  })

  it('a recovery code works once', async () => {
    const { app, user, recoveryCodes, headers } = await userWithTotp()
    const code = must(recoveryCodes[0], 'a recovery code')
    const start = async () =>
      (await token(app, { username: user.email, password: user.password })).json().mfa_token
    const ok = await token(app, {
      grant_type: GRANT,
      mfa_token: await start(),
      recovery_code: code.toUpperCase(),
    })
    expect(ok.statusCode, ok.body).toBe(200)
    const again = await jsonMfa(app, { mfa_token: await start(), recovery_code: code })
    expect(again.statusCode).toBe(401)
    const status = await app.inject({ method: 'GET', url: '/api/v1/users/me/mfa', headers })
    expect(status.json().recovery_codes_left).toBe(9)
  })

  it('the mfa_token is bound to the client, lives 5 minutes, and dies after 5 wrong codes', async () => {
    const { app, clock, user, secret, config, database } = await userWithTotp()
    // Two registered first-party clients that may use the password grant.
    const deps = await createDeps(config, { database, clock })
    const register = async (name: string) =>
      (
        await deps.services.clients.create({
          name,
          type: 'public',
          first_party: true,
          grant_types: ['password', 'refresh_token'],
          redirect_uris: ['https://app.example/cb'],
        })
      ).client.client_id
    const clientA = await register('A')
    const clientB = await register('B')
    await deps.close()
    const start = async (client_id?: string) =>
      (
        await token(app, {
          username: user.email,
          password: user.password,
          ...(client_id && { client_id }),
        })
      ).json().mfa_token as string

    const forA = await start(clientA)
    const other = await token(app, {
      grant_type: GRANT,
      mfa_token: forA,
      otp: await totpAt(secret, clock),
      client_id: clientB,
    })
    expect(other.statusCode).toBe(400)
    const same = await token(app, {
      grant_type: GRANT,
      mfa_token: forA,
      otp: await totpAt(secret, clock),
      client_id: clientA,
    })
    expect(same.statusCode, same.body).toBe(200)
    clock.advanceSeconds(30)

    const old = await start()
    clock.advanceSeconds(5 * 60 + 1)
    const late = await token(app, {
      grant_type: GRANT,
      mfa_token: old,
      otp: await totpAt(secret, clock),
    })
    expect(late.statusCode).toBe(400)

    const tried = await start()
    for (let i = 0; i < 5; i++) {
      const r = await token(app, { grant_type: GRANT, mfa_token: tried, otp: `00000${i}` })
      expect(r.statusCode).toBe(400)
    }
    const dead = await token(app, {
      grant_type: GRANT,
      mfa_token: tried,
      otp: await totpAt(secret, clock),
    })
    expect(dead.statusCode).toBe(400)
    expect(dead.json().error).toBe('invalid_grant')
  })

  it('a wrong password on an account with a factor answers as an unknown account does', async () => {
    const { app, user } = await userWithTotp()
    const wrong = await token(app, { username: user.email, password: 'not-the-password' })
    const unknown = await token(app, { username: randomEmail(), password: 'not-the-password' })
    const view = (r: typeof wrong) => {
      const { 'x-request-id': _id, date: _d, ...headers } = r.headers
      return { status: r.statusCode, body: r.body, headers }
    }
    expect(wrong.statusCode).toBe(400)
    expect(view(unknown)).toEqual(view(wrong))
    const wrongJson = await jsonLogin(app, { email: user.email, password: 'not-the-password' })
    const unknownJson = await jsonLogin(app, { email: randomEmail(), password: 'not-the-password' })
    expect(view(unknownJson)).toEqual(view(wrongJson))
  })

  it('an account deactivated before the second step gets 403 there', async () => {
    const { app, clock, user, secret, database } = await userWithTotp()
    const { mfa_token } = (
      await jsonLogin(app, { email: user.email, password: user.password })
    ).json()
    await database.db.updateTable('users').set({ is_active: 0 }).where('id', '=', user.id).execute()
    const res = await jsonMfa(app, { mfa_token, otp: await totpAt(secret, clock) })
    expect(res.statusCode).toBe(403)
    expect(res.json()).toEqual({ detail: 'Inactive user' })
  })

  it('missing fields of the MFA grant are a 422', async () => {
    const { app } = await buildTestApp()
    const res = await token(app, { grant_type: GRANT })
    expect(res.statusCode).toBe(422)
  })
})

describe('resetting factors', () => {
  it('a superuser resets them and the user is told by mail', async () => {
    const smtp = await startSmtpServer({ ignore: isVerificationMail })
    const { app, clock } = await buildTestApp({
      smtpUrl: smtp.url,
      firstSuperuserEmail: 'root@example.com',
      firstSuperuserPassword: 'root-Passw0rd-long',
    })
    const user = await createUser(app)
    const { headers } = await loginAs(app, user)
    await enableTotp(app, clock, headers, user.password)
    const admin = await loginAs(app, { email: 'root@example.com', password: 'root-Passw0rd-long' })

    const notAdmin = await app.inject({
      method: 'POST',
      url: `/api/v1/users/${user.id}/mfa/reset`,
      headers,
    })
    expect(notAdmin.statusCode).toBe(403)
    const res = await app.inject({
      method: 'POST',
      url: `/api/v1/users/${user.id}/mfa/reset`,
      headers: admin.headers,
    })
    expect(res.statusCode, res.body).toBe(204)
    const unknown = await app.inject({
      method: 'POST',
      url: '/api/v1/users/00000000-0000-4000-8000-000000000000/mfa/reset',
      headers: admin.headers,
    })
    expect(unknown.statusCode).toBe(404)
    const mail = await smtp.nextMail()
    expect(mail.to).toEqual([user.email])
    expect(mail.raw).toMatch(/^Subject: Your Keygate sign-in factors were reset$/m)
    await loginAs(app, user)
  })

  it('a password reset by mail leaves the factor in place', async () => {
    const smtp = await startSmtpServer({ ignore: isVerificationMail })
    const { app, clock } = await buildTestApp({ smtpUrl: smtp.url })
    const user = await createUser(app)
    const { headers } = await loginAs(app, user)
    await enableTotp(app, clock, headers, user.password)
    await app.inject({
      method: 'POST',
      url: '/api/v1/auth/password-reset/request',
      payload: { email: user.email },
    })
    const next = strongPassword()
    const confirm = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/password-reset/confirm',
      payload: { token: resetTokenIn((await smtp.nextMail()).raw), new_password: next },
    })
    expect(confirm.statusCode).toBe(204)
    const res = await token(app, { username: user.email, password: next })
    expect(res.statusCode).toBe(403)
    expect(res.json().error).toBe('mfa_required')
  })
})
