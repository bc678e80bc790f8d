import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { buildAdminApp, issueResetLink, tokenOf } from '../helpers/accounts.js'
import { auditRows } from '../helpers/audit.js'
import { registerClient } from '../helpers/clients.js'
import { form, randomEmail, strongPassword, type Tokens } from '../helpers/factories.js'
import { must } from '../helpers/must.js'
import { resetTokenIn, startSmtpServer, verifyTokenIn } from '../helpers/smtp.js'
import { totpAt } from '../helpers/totp.js'

const MFA_GRANT = 'urn:keygate:params:oauth:grant-type:mfa'

describe('audit events never hold a secret', () => {
  it('performs every action with known secrets, then scans every column of every row', async () => {
    const smtp = await startSmtpServer()
    const t = await buildAdminApp({ smtpUrl: smtp.url })
    const { app, database, clock, admin } = t
    const secrets = new Set<string>()
    const keep = (...values: string[]) => {
      for (const v of values) secrets.add(v)
      return values[0] ?? ''
    }
    // TOTP codes: six digits are too short to search rows for, so no detail may be one.
    const codes = new Set<string>()
    const keepCode = (code: string) => {
      codes.add(code)
      return keep(code)
    }
    /** The first mail, from those not yet read, whose text matches. */
    const read = new Set<number>()
    const mailWith = async (pattern: RegExp) => {
      for (;;) {
        const i = smtp.inbox.findIndex((m, n) => !read.has(n) && pattern.test(m.raw))
        if (i >= 0) {
          read.add(i)
          return must(smtp.inbox[i]).raw
        }
        await new Promise((r) => setTimeout(r, 20))
      }
    }
    // What is stored for the secrets (hashes of passwords and tokens), read as they come.
    const harvest = async () => {
      const db = database.db
      for (const r of await db.selectFrom('users').select('hashed_password').execute())
        keep(r.hashed_password)
      for (const r of await db.selectFrom('refresh_tokens').select('token_hash').execute())
        keep(r.token_hash)
      for (const r of await db.selectFrom('password_reset_tokens').select('token_hash').execute())
        keep(r.token_hash)
      for (const r of await db.selectFrom('email_tokens').select('token_hash').execute())
        keep(r.token_hash)
      for (const r of await db.selectFrom('clients').select('secret_hash').execute())
        if (r.secret_hash) keep(r.secret_hash)
      for (const r of await db.selectFrom('totp_factors').select('secret_sealed').execute())
        keep(r.secret_sealed)
      for (const r of await db.selectFrom('recovery_codes').select('code_hash').execute())
        keep(r.code_hash)
      for (const r of await db.selectFrom('mfa_challenges').select('token_hash').execute())
        keep(r.token_hash)
    }
    const send = async (
      method: 'POST' | 'PATCH' | 'DELETE',
      url: string,
      body: object | string,
      headers: Record<string, string> = {},
    ) => {
      const res = await app.inject({ method, url, payload: body, headers })
      expect(res.statusCode, `${url}: ${res.body}`).toBeLessThan(300)
      return res
    }
    // A first-party client for the sign-ins; a confidential one for its secrets.
    const scanApp = (
      await registerClient(app, admin.headers, {
        name: 'Scan app',
        type: 'public',
        first_party: true,
        grant_types: ['password', 'refresh_token'],
        redirect_uris: ['https://scan.example/cb'],
        scopes: ['openid', 'profile', 'email', 'offline_access', 'account'],
      })
    ).client_id
    const confidential = await registerClient(app, admin.headers, {
      name: 'Scan server',
      type: 'confidential',
      redirect_uris: ['https://scan.example/cb'],
    })
    keep(must(confidential.client_secret))
    await harvest()
    const clientUrl = `/api/v1/clients/${confidential.client_id}`
    await send('PATCH', clientUrl, { name: 'Scan server 2' }, admin.headers)
    const rotated2 = await send('POST', `${clientUrl}/secret`, {}, admin.headers)
    keep(rotated2.json().client_secret)
    await harvest()
    await send('DELETE', clientUrl, {}, admin.headers)

    const signIn = async (username: string, password: string) => {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/token',
        ...form({ username, password, client_id: scanApp }),
      })
      expect(res.statusCode, res.body).toBe(200)
      const tokens = res.json() as Tokens
      keep(tokens.access_token, tokens.refresh_token)
      // The JWT's signature alone, and the known-device cookie.
      keep(must(tokens.access_token.split('.')[2]))
      const cookie = /keygate_device=([^;]+)/.exec(String(res.headers['set-cookie']))?.[1]
      if (cookie) keep(cookie)
      await harvest()
      return { tokens, headers: { authorization: `Bearer ${tokens.access_token}` } }
    }
    keep(admin.tokens.access_token, admin.tokens.refresh_token)

    let email = randomEmail()
    let password = keep(strongPassword())
    const { json } = await send('POST', '/api/v1/auth/signup', { email, password })
    const userId = json().id as string
    // Signup's verification link, followed.
    const verifyToken = keep(verifyTokenIn(await mailWith(/Subject: Verify your email/)))
    await harvest()
    await send('POST', '/api/v1/auth/verify-email/confirm', { token: verifyToken })
    let s = await signIn(email, password)

    // Failures: a wrong password, and a password typed into the login field.
    const wrong = keep(strongPassword())
    const typo = keep(strongPassword())
    for (const [username, pw] of [
      [email, wrong],
      [typo, password],
    ] as const) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/token',
        ...form({ username, password: pw }),
      })
      expect(res.statusCode).toBe(400)
    }

    // Refresh, then the spent token again past the grace window.
    const spent = s.tokens.refresh_token
    const refresh = { grant_type: 'refresh_token', refresh_token: spent, client_id: scanApp }
    const rotated = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/token',
      ...form(refresh),
    })
    expect(rotated.statusCode, rotated.body).toBe(200)
    keep(rotated.json().access_token, rotated.json().refresh_token)
    clock.advanceSeconds(60)
    await app.inject({ method: 'POST', url: '/api/v1/auth/token', ...form(refresh) })

    s = await signIn(email, password)
    const next = keep(strongPassword())
    await send(
      'POST',
      '/api/v1/users/me/password',
      { current_password: password, new_password: next },
      s.headers,
    )
    password = next
    email = randomEmail()
    await send(
      'PATCH',
      '/api/v1/users/me',
      { email, username: 'scanned', current_password: password },
      s.headers,
    )
    // With SMTP the change waits for the link mailed to the new address.
    const changeToken = keep(verifyTokenIn(await mailWith(/Subject: Confirm your new email/)))
    await harvest()
    await send('POST', '/api/v1/auth/verify-email/confirm', { token: changeToken })
    // Another verification mail asked for (none goes: the address is verified).
    await send('POST', '/api/v1/auth/verify-email/request', {}, s.headers)

    // A reset by mail, and one by `keygate reset-link`.
    await send('POST', '/api/v1/auth/password-reset/request', { email })
    const mailed = keep(resetTokenIn(await mailWith(/\/reset-password\?token=/)))
    await harvest()
    const cliToken = keep(tokenOf(must(await issueResetLink(t, email))))
    await harvest()
    password = keep(strongPassword())
    await send('POST', '/api/v1/auth/password-reset/confirm', {
      token: mailed,
      new_password: password,
    })
    expect(cliToken).not.toBe(mailed)

    // Revocation (RFC 7009), one session revoked, logout of one and of all.
    s = await signIn(email, password)
    await send(
      'POST',
      '/api/v1/auth/revoke',
      new URLSearchParams({ token: s.tokens.refresh_token }).toString(),
      {
        'content-type': 'application/x-www-form-urlencoded',
      },
    )
    const a = await signIn(email, password)
    const b = await signIn(email, password)
    const sid = JSON.parse(atob(must(b.tokens.access_token.split('.')[1]))).sid
    await send('DELETE', `/api/v1/users/me/sessions/${sid}`, {}, a.headers)
    await send('POST', '/api/v1/auth/logout', {}, a.headers)
    s = await signIn(email, password)
    await send('POST', '/api/v1/auth/logout', { all: true }, s.headers)

    // Every admin action, then the user deletes themself.
    const on = `/api/v1/users/${userId}`
    await send('PATCH', on, { is_active: false }, admin.headers)
    const inactive = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/token',
      ...form({ username: email, password }),
    })
    expect(inactive.statusCode).toBe(403)
    await send('PATCH', on, { is_active: true, is_superuser: true }, admin.headers)
    await send('PATCH', on, { is_superuser: false }, admin.headers)
    await send('DELETE', `${on}/sessions`, {}, admin.headers)
    s = await signIn(email, password)
    await harvest()

    // Second factors: enrol, new recovery codes, both second steps, a wrong code, removal.
    const mfa = '/api/v1/users/me/mfa'
    const enrol = async () => {
      const begun = await send('POST', `${mfa}/totp`, { password }, s.headers)
      const secret = keep(begun.json().secret, begun.json().otpauth_uri)
      const confirmed = await send(
        'POST',
        `${mfa}/totp/confirm`,
        { code: keepCode(await totpAt(secret, clock)) },
        s.headers,
      )
      clock.advanceSeconds(30)
      await harvest()
      return { secret, recovery: keep(...confirmed.json().recovery_codes) }
    }
    let { secret } = await enrol()
    const regenerated = await send(
      'POST',
      `${mfa}/recovery-codes`,
      { password, code: keepCode(await totpAt(secret, clock)) },
      s.headers,
    )
    const recovery = keep(...regenerated.json().recovery_codes)
    clock.advanceSeconds(30)
    await harvest()
    const mfaToken = async () => {
      const first = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/token',
        ...form({ username: email, password, client_id: scanApp }),
      })
      expect(first.statusCode).toBe(403)
      await harvest()
      return keep(first.json().mfa_token)
    }
    const secondStep = async (fields: Record<string, string>) => {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/token',
        ...form({ grant_type: MFA_GRANT, client_id: scanApp, ...fields }),
      })
      if (res.statusCode === 200) keep(res.json().access_token, res.json().refresh_token)
      return res.statusCode
    }
    let token = await mfaToken()
    const good = keepCode(await totpAt(secret, clock))
    const bad = keepCode(String((Number(good) + 500_000) % 1_000_000).padStart(6, '0'))
    expect(await secondStep({ mfa_token: token, otp: bad })).toBe(400)
    expect(await secondStep({ mfa_token: token, otp: good })).toBe(200)
    token = await mfaToken()
    expect(await secondStep({ mfa_token: token, recovery_code: recovery })).toBe(200)
    clock.advanceSeconds(30)
    await send(
      'DELETE',
      `${mfa}/totp`,
      { password, code: keepCode(await totpAt(secret, clock)) },
      s.headers,
    )
    ;({ secret } = await enrol())
    await send('POST', `${on}/mfa/reset`, {}, admin.headers)

    s = await signIn(email, password)
    await send('DELETE', '/api/v1/users/me', { password }, s.headers)

    const rows = await auditRows(database)
    const types = new Set(rows.map((r) => r.type))
    // The scan covers every kind of event these flows write.
    for (const type of [
      'user_created',
      'sign_in_succeeded',
      'sign_in_failed',
      'token_refreshed',
      'refresh_reuse_detected',
      'password_changed',
      'email_changed',
      'profile_updated',
      'password_reset_requested',
      'password_reset_completed',
      'session_revoked',
      'logged_out',
      'user_deactivated',
      'user_reactivated',
      'user_promoted',
      'user_demoted',
      'sessions_revoked_by_admin',
      'user_deleted',
      'client_created',
      'client_updated',
      'client_secret_rotated',
      'client_deleted',
      'email_verification_requested',
      'email_verified',
      'email_change_requested',
      'factor_enrolled',
      'recovery_codes_regenerated',
      'factor_used',
      'recovery_code_used',
      'factor_removed',
    ])
      expect(types, type).toContain(type)

    // Each secret as given, and as SHA-256 in hex, base64 and base64url.
    const needles = [...secrets].flatMap((v) => {
      const d = createHash('sha256').update(v).digest()
      return [v, d.toString('hex'), d.toString('base64'), d.toString('base64url')]
    })
    expect(secrets.size).toBeGreaterThan(20)
    const leaks = rows.flatMap((row) => {
      const text = JSON.stringify(row)
      return needles
        .filter((n) => n.length >= 14 && text.includes(n))
        .map((n) => `${row.type}: ${n}`)
    })
    expect(leaks).toEqual([])
    // No detail is a TOTP code (its hashes are among the needles above).
    expect(codes.size).toBeGreaterThan(4)
    const codeDetails = rows.flatMap((row) =>
      Object.values(JSON.parse(row.details) as object)
        .map(String)
        .filter((v) => [...codes].some((c) => v.includes(c)))
        .map((v) => `${row.type}: ${v}`),
    )
    expect(codeDetails).toEqual([])
  }, 60_000)
})
