import type { FastifyInstance } from 'fastify'
import { describe, expect, it } from 'vitest'
import { buildTestApp } from '../helpers/app.js'
import { createUser, form } from '../helpers/factories.js'
import { throttled } from '../helpers/rate-limit.js'

// Issue 14, medium 4: the per-account ceiling stays against spraying, but a
// client that signed in to the account before keeps its way in (OWASP device cookie).

const signIn = (
  app: FastifyInstance,
  username: string,
  password: string,
  ip: string,
  cookie?: string,
) =>
  app.inject({
    method: 'POST',
    url: '/api/v1/auth/token',
    remoteAddress: ip,
    payload: form({ username, password }).payload,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie && { cookie }) },
  })

/** `keygate_device=…` from a sign-in's Set-Cookie, ready to send back. */
function deviceCookie(res: Awaited<ReturnType<FastifyInstance['inject']>>): string {
  const set = String(res.headers['set-cookie'] ?? '')
  const match = /^keygate_device=([^;]+)/.exec(set)
  if (!match) throw new Error(`no device cookie in ${set}`)
  return `keygate_device=${match[1]}`
}

/** 100 wrong passwords from 20 addresses: the account's ceiling is spent. */
async function spray(app: FastifyInstance, login: string) {
  for (let a = 0; a < 20; a++) {
    for (let i = 0; i < 5; i++) {
      const res = await signIn(app, login, `guess-${a}-${i}`, `198.18.${a}.1`)
      expect(res.statusCode).toBe(400)
    }
  }
}

// Hundreds of sequential failed sign-ins, each padded to the slowest recent check
// (failure-floor.ts): on a loaded machine one slow check slows all that follow.
describe('known devices keep their way in', { timeout: 120_000 }, () => {
  it('100 failures from 20 addresses lock the account; the owner with the device cookie still signs in', async () => {
    const { app } = await buildTestApp(throttled())
    const user = await createUser(app)
    const first = await signIn(app, user.email, user.password, '192.0.2.10')
    expect(first.statusCode).toBe(200)
    const cookie = deviceCookie(first)

    await spray(app, user.email)
    const stranger = await signIn(app, user.email, user.password, '192.0.2.77')
    expect(stranger.statusCode).toBe(429)
    expect(Number(stranger.headers['retry-after'])).toBeGreaterThanOrEqual(1)

    const owner = await signIn(app, user.email, user.password, '192.0.2.10', cookie)
    expect(owner.statusCode, owner.body).toBe(200)
    // From another network too: the marker is the proof, not the address.
    const travelling = await signIn(app, user.email, user.password, '192.0.2.200', cookie)
    expect(travelling.statusCode).toBe(200)
    const withoutIt = await signIn(app, user.email, user.password, '192.0.2.10')
    expect(withoutIt.statusCode).toBe(429)
  })

  it('a live refresh token keeps an API client in while the account is locked', async () => {
    const { app } = await buildTestApp(throttled())
    const user = await createUser(app)
    const tokens = (await signIn(app, user.email, user.password, '192.0.2.10')).json()
    await spray(app, user.email)
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/token',
      remoteAddress: '192.0.2.10',
      ...form({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token }),
    })
    expect(res.statusCode, res.body).toBe(200)
  })

  it('the cookie is HttpOnly, SameSite=Lax, long-lived, and Secure behind an https PUBLIC_URL', async () => {
    const { app } = await buildTestApp()
    const user = await createUser(app)
    const set = String(
      (await signIn(app, user.email, user.password, '192.0.2.1')).headers['set-cookie'],
    )
    expect(set).toMatch(/^keygate_device=[\w.-]+; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Lax$/)

    const secure = await buildTestApp({ publicUrl: 'https://auth.example.com' })
    const other = await createUser(secure.app)
    const json = await secure.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: other.email, password: other.password },
    })
    expect(json.statusCode).toBe(200)
    expect(String(json.headers['set-cookie'])).toMatch(/; HttpOnly; SameSite=Lax; Secure$/)
    expect(json.json()).not.toHaveProperty('device')
    // A failed sign-in sets nothing.
    const failed = await signIn(app, user.email, 'wrong', '192.0.2.1')
    expect(failed.headers['set-cookie']).toBeUndefined()
  })

  it('a marker of another account, a forged or an expired one does not pass the ceiling', async () => {
    const { app, clock } = await buildTestApp(throttled())
    const victim = await createUser(app)
    const attacker = await createUser(app)
    const own = deviceCookie(await signIn(app, attacker.email, attacker.password, '192.0.2.5'))
    const real = deviceCookie(await signIn(app, victim.email, victim.password, '192.0.2.10'))
    await spray(app, victim.email)

    const [id, device, exp, mac] = real.slice('keygate_device='.length).split('.') as string[]
    const forged = [
      own,
      `keygate_device=${id}.${device}.${Number(exp) + 86_400}.${mac}`,
      `keygate_device=${id}.other-device.${exp}.${mac}`,
      'keygate_device=garbage',
    ]
    for (const cookie of forged) {
      expect(
        (await signIn(app, victim.email, victim.password, '192.0.2.10', cookie)).statusCode,
      ).toBe(429)
    }
    clock.advanceSeconds(181 * 86_400)
    await spray(app, victim.email)
    expect((await signIn(app, victim.email, victim.password, '192.0.2.10', real)).statusCode).toBe(
      429,
    )
  })

  it('a known device has its own failure budget: guessing with a stolen marker runs out', async () => {
    const { app } = await buildTestApp(throttled())
    const user = await createUser(app)
    const cookie = deviceCookie(await signIn(app, user.email, user.password, '192.0.2.10'))
    await spray(app, user.email)
    // 2 × RATE_LIMIT_ACCOUNT_CLIENT_FAILURES wrong guesses spend the device's budget.
    for (let i = 0; i < 10; i++) {
      expect((await signIn(app, user.email, 'wrong', `203.0.113.${i}`, cookie)).statusCode).toBe(
        400,
      )
    }
    expect((await signIn(app, user.email, user.password, '203.0.113.50', cookie)).statusCode).toBe(
      429,
    )
  })
})
