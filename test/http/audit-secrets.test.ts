import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { buildAdminApp, issueResetLink, tokenOf } from '../helpers/accounts.js'
import { auditRows } from '../helpers/audit.js'
import { form, randomEmail, strongPassword, type Tokens } from '../helpers/factories.js'
import { must } from '../helpers/must.js'
import { resetTokenIn, startSmtpServer } from '../helpers/smtp.js'

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
    // What is stored for the secrets (hashes of passwords and tokens), read as they come.
    const harvest = async () => {
      const db = database.db
      for (const r of await db.selectFrom('users').select('hashed_password').execute())
        keep(r.hashed_password)
      for (const r of await db.selectFrom('refresh_tokens').select('token_hash').execute())
        keep(r.token_hash)
      for (const r of await db.selectFrom('password_reset_tokens').select('token_hash').execute())
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
    const signIn = async (username: string, password: string) => {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/token',
        ...form({ username, password, client_id: 'scan-app' }),
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
    const rotated = await send('POST', '/api/v1/auth/refresh', { refresh_token: spent })
    keep(rotated.json().access_token, rotated.json().refresh_token)
    clock.advanceSeconds(60)
    await app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refresh_token: spent },
    })

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

    // A reset by mail, and one by `keygate reset-link`.
    await send('POST', '/api/v1/auth/password-reset/request', { email })
    const mailed = keep(resetTokenIn((await smtp.nextMail()).raw))
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
        .filter((n) => n.length >= 16 && text.includes(n))
        .map((n) => `${row.type}: ${n}`)
    })
    expect(leaks).toEqual([])
  }, 60_000)
})
