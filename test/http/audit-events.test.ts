import { describe, expect, it } from 'vitest'
import { createDeps } from '../../src/deps.js'
import type { AuditEvent } from '../../src/domain/audit.js'
import { SCOPES } from '../../src/domain/scopes.js'
import { toAuditEvent } from '../../src/repos/audit-events.js'
import { ADMIN, buildAdminApp, issueResetLink, tokenOf } from '../helpers/accounts.js'
import { auditRows, auditTail } from '../helpers/audit.js'
import { registerClient } from '../helpers/clients.js'
import { form, randomEmail, strongPassword, type Tokens } from '../helpers/factories.js'
import { must } from '../helpers/must.js'
import { startSmtpServer, verifyTokenIn } from '../helpers/smtp.js'
import { totpAt } from '../helpers/totp.js'

const MFA_GRANT = 'urn:keygate:params:oauth:grant-type:mfa'

const IP = '198.51.100.7'
const UA = 'audit-test/1.0'

/** One event as stored: every field, so a test states exactly what it expects. */
const event = (fields: Partial<AuditEvent> & { type: string }, requestId: string | null) => ({
  id: expect.any(Number),
  created_at: expect.any(Date),
  user_id: null,
  actor_id: null,
  client_id: null,
  ip: IP,
  user_agent: UA,
  request_id: requestId,
  details: {},
  count: 1,
  ...fields,
})

/** A first-party client that may use the password grant, as the tests' sign-ins do. */
const PASSWORD_APP = {
  name: 'Audit app',
  type: 'public',
  first_party: true,
  grant_types: ['password', 'refresh_token'],
  redirect_uris: ['https://app.example/cb'],
  // What the built-in client holds, but admin: the tests' users change their own accounts.
  scopes: SCOPES.filter((s) => s !== 'admin'),
}

async function setup(overrides: Parameters<typeof buildAdminApp>[0] = {}) {
  const t = await buildAdminApp(overrides)
  const appId = (await registerClient(t.app, t.admin.headers, PASSWORD_APP)).client_id
  const tail = auditTail(t.database)
  await tail.skip()
  let n = 0
  /** A request from IP with UA and a fresh request id; returns the response and that id. */
  const call = async (
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    opts: {
      payload?: unknown
      headers?: Record<string, string>
      form?: Record<string, string>
    } = {},
  ) => {
    const requestId = `req-${++n}`
    const encoded = opts.form ? form(opts.form) : undefined
    const res = await t.app.inject({
      method,
      url,
      remoteAddress: IP,
      payload: (encoded?.payload ?? opts.payload) as string,
      headers: {
        'user-agent': UA,
        'x-request-id': requestId,
        ...encoded?.headers,
        ...opts.headers,
      },
    })
    return { res, requestId }
  }
  const signUp = async () => {
    const user = { email: randomEmail(), password: strongPassword() }
    const { res, requestId } = await call('POST', '/api/v1/auth/signup', { payload: user })
    expect(res.statusCode, res.body).toBe(201)
    return { ...user, id: res.json().id as string, requestId }
  }
  const signIn = async (user: { email: string; password: string }, clientId = appId) => {
    const { res, requestId } = await call('POST', '/api/v1/auth/token', {
      form: { username: user.email, password: user.password, client_id: clientId },
    })
    expect(res.statusCode, res.body).toBe(200)
    const tokens = res.json() as Tokens
    return { tokens, headers: { authorization: `Bearer ${tokens.access_token}` }, requestId }
  }
  return { ...t, appId, tail, call, signUp, signIn }
}

describe('audit events', () => {
  it('records signup, sign-in, refresh, reuse, logout and revocations field by field', async () => {
    const { call, signUp, signIn, tail, clock, appId } = await setup()
    const user = await signUp()
    expect(await tail.next()).toEqual([
      event(
        { type: 'user_created', user_id: user.id, details: { via: 'signup', is_superuser: false } },
        user.requestId,
      ),
    ])

    const a = await signIn(user)
    const sessionA = must(JSON.parse(atob(a.tokens.access_token.split('.')[1] ?? '')).sid)
    expect(await tail.next()).toEqual([
      event(
        { type: 'sign_in_succeeded', user_id: user.id, client_id: appId, details: { amr: 'pwd' } },
        a.requestId,
      ),
    ])

    // A registered client's session refreshes at the token endpoint, as that client.
    const refresh = { grant_type: 'refresh_token', refresh_token: a.tokens.refresh_token }
    const refreshed = await call('POST', '/api/v1/auth/token', {
      form: { ...refresh, client_id: appId },
    })
    expect(refreshed.res.statusCode, refreshed.res.body).toBe(200)
    expect(await tail.next()).toEqual([
      event(
        {
          type: 'token_refreshed',
          user_id: user.id,
          client_id: appId,
          details: { session_id: sessionA },
        },
        refreshed.requestId,
      ),
    ])

    // The spent token again, past the grace window: theft, the session dies.
    clock.advanceSeconds(60)
    const reused = await call('POST', '/api/v1/auth/token', {
      form: { ...refresh, client_id: appId },
    })
    expect(reused.res.json().error).toBe('invalid_grant')
    expect(await tail.next()).toEqual([
      event(
        {
          type: 'refresh_reuse_detected',
          user_id: user.id,
          client_id: appId,
          details: { session_id: sessionA },
        },
        reused.requestId,
      ),
    ])

    const b = await signIn(user)
    const c = await signIn(user)
    const d = await signIn(user)
    await tail.skip()
    const sessionC = JSON.parse(atob(c.tokens.access_token.split('.')[1] ?? '')).sid
    const revoked = await call('DELETE', `/api/v1/users/me/sessions/${sessionC}`, {
      headers: b.headers,
    })
    expect(revoked.res.statusCode).toBe(204)
    expect(await tail.next()).toEqual([
      event(
        {
          type: 'session_revoked',
          user_id: user.id,
          actor_id: user.id,
          details: { session_id: sessionC, via: 'user' },
        },
        revoked.requestId,
      ),
    ])

    // RFC 7009 revocation by the token's holder, no bearer: no actor.
    const sessionD = JSON.parse(atob(d.tokens.access_token.split('.')[1] ?? '')).sid
    const byToken = await call('POST', '/api/v1/auth/revoke', {
      form: { token: d.tokens.refresh_token },
    })
    expect(byToken.res.statusCode).toBe(200)
    expect(await tail.next()).toEqual([
      event(
        {
          type: 'session_revoked',
          user_id: user.id,
          details: { session_id: sessionD, via: 'token_revocation' },
        },
        byToken.requestId,
      ),
    ])

    const sessionB = JSON.parse(atob(b.tokens.access_token.split('.')[1] ?? '')).sid
    const out = await call('POST', '/api/v1/auth/logout', { headers: b.headers, payload: {} })
    expect(out.res.statusCode).toBe(204)
    expect(await tail.next()).toEqual([
      event(
        {
          type: 'logged_out',
          user_id: user.id,
          actor_id: user.id,
          details: { all: false, session_id: sessionB },
        },
        out.requestId,
      ),
    ])
    const e = await signIn(user)
    await tail.skip()
    const all = await call('POST', '/api/v1/auth/logout', {
      headers: e.headers,
      payload: { all: true },
    })
    expect(all.res.statusCode).toBe(204)
    const sessionE = JSON.parse(atob(e.tokens.access_token.split('.')[1] ?? '')).sid
    expect(await tail.next()).toEqual([
      event(
        {
          type: 'logged_out',
          user_id: user.id,
          actor_id: user.id,
          details: { all: true, session_id: sessionE },
        },
        all.requestId,
      ),
    ])
  })

  it('records password and profile changes, resets and self-deletion', async () => {
    const t = await setup()
    const { call, signUp, signIn, tail } = t
    const user = await signUp()
    let session = await signIn(user)
    await tail.skip()

    const email = randomEmail()
    const profile = await call('PATCH', '/api/v1/users/me', {
      headers: session.headers,
      payload: { email, username: 'renamed', current_password: user.password },
    })
    expect(profile.res.statusCode, profile.res.body).toBe(200)
    const self = { user_id: user.id, actor_id: user.id }
    expect(await tail.next()).toEqual([
      event({ type: 'email_changed', ...self }, profile.requestId),
      event(
        { type: 'profile_updated', ...self, details: { username: 'renamed' } },
        profile.requestId,
      ),
    ])

    const next = strongPassword()
    const changed = await call('POST', '/api/v1/users/me/password', {
      headers: session.headers,
      payload: { current_password: user.password, new_password: next },
    })
    expect(changed.res.statusCode, changed.res.body).toBe(204)
    expect(await tail.next()).toEqual([
      event({ type: 'password_changed', ...self }, changed.requestId),
    ])

    // `keygate reset-link` (no request: no client fields), then the link used over HTTP.
    const link = must(await issueResetLink(t, email))
    expect(await tail.next()).toEqual([
      {
        ...event(
          { type: 'password_reset_requested', user_id: user.id, details: { via: 'cli' } },
          null,
        ),
        ip: null,
        user_agent: null,
      },
    ])
    const reset = strongPassword()
    const confirmed = await call('POST', '/api/v1/auth/password-reset/confirm', {
      payload: { token: tokenOf(link), new_password: reset },
    })
    expect(confirmed.res.statusCode, confirmed.res.body).toBe(204)
    expect(await tail.next()).toEqual([
      event({ type: 'password_reset_completed', user_id: user.id }, confirmed.requestId),
    ])

    session = await signIn({ email, password: reset })
    await tail.skip()
    const deleted = await call('DELETE', '/api/v1/users/me', {
      headers: session.headers,
      payload: { password: reset },
    })
    expect(deleted.res.statusCode, deleted.res.body).toBe(204)
    expect(await tail.next()).toEqual([
      event({ type: 'user_deleted', ...self, details: { via: 'self' } }, deleted.requestId),
    ])
  })

  it('records every admin action with the acting admin as actor', async () => {
    const { call, signUp, signIn, tail, admin, appId } = await setup()
    const user = await signUp()
    await tail.skip()
    const by = { user_id: user.id, actor_id: admin.id }
    const patch = async (payload: object) => {
      const r = await call('PATCH', `/api/v1/users/${user.id}`, { headers: admin.headers, payload })
      expect(r.res.statusCode, r.res.body).toBe(200)
      return r.requestId
    }

    let id = await patch({ is_active: false })
    expect(await tail.next()).toEqual([event({ type: 'user_deactivated', ...by }, id)])

    // The right password of a deactivated account.
    const inactive = await call('POST', '/api/v1/auth/token', {
      form: { username: user.email, password: user.password, client_id: appId },
    })
    expect(inactive.res.statusCode).toBe(403)
    expect(await tail.next()).toEqual([
      event(
        {
          type: 'sign_in_failed',
          user_id: user.id,
          client_id: appId,
          details: { reason: 'inactive' },
        },
        inactive.requestId,
      ),
    ])

    id = await patch({ is_active: true, is_superuser: true })
    expect(await tail.next()).toEqual([
      event({ type: 'user_reactivated', ...by }, id),
      event({ type: 'user_promoted', ...by }, id),
    ])
    id = await patch({ is_superuser: false })
    expect(await tail.next()).toEqual([event({ type: 'user_demoted', ...by }, id)])

    await signIn(user)
    await tail.skip()
    const out = await call('DELETE', `/api/v1/users/${user.id}/sessions`, {
      headers: admin.headers,
    })
    expect(out.res.statusCode).toBe(204)
    expect(await tail.next()).toEqual([
      event({ type: 'sessions_revoked_by_admin', ...by }, out.requestId),
    ])

    const del = await call('DELETE', `/api/v1/users/${user.id}`, { headers: admin.headers })
    expect(del.res.statusCode).toBe(204)
    expect(await tail.next()).toEqual([
      event({ type: 'user_deleted', ...by, details: { via: 'admin' } }, del.requestId),
    ])
    // The event outlives the account it is about.
    const log = await call('GET', `/api/v1/audit?user_id=${user.id}`, { headers: admin.headers })
    expect(log.res.json().items.map((e: { type: string }) => e.type)[0]).toBe('user_deleted')
  })

  it('records accounts made without a request: first superuser, create-user, import', async () => {
    const t = await buildAdminApp()
    const [first] = (await auditRows(t.database)).map(toAuditEvent)
    const noRequest = { ip: null, user_agent: null }
    expect(first).toEqual({
      ...event(
        {
          type: 'user_created',
          user_id: t.admin.id,
          details: { via: 'first_superuser', is_superuser: true },
        },
        null,
      ),
      ...noRequest,
    })
    const tail = auditTail(t.database)
    await tail.skip()
    const deps = await createDeps(t.config, { database: t.database, clock: t.clock })
    try {
      // What `keygate create-user --superuser` and `keygate import-users` call.
      const made = await deps.services.users.signup(
        { email: randomEmail(), password: strongPassword() },
        { is_superuser: true },
      )
      const rows = (async function* () {
        for (let line = 1; line <= 3; line++)
          yield {
            line,
            fields: { email: randomEmail(), hashed_password: `$2b$04$${'a'.repeat(53)}` },
          }
        yield {
          line: 4,
          fields: { email: made.email, hashed_password: `$2b$04$${'a'.repeat(53)}` },
        }
      })()
      expect((await deps.services.importUsers.run(rows)).imported).toBe(3)
      expect(await tail.next()).toEqual([
        {
          ...event(
            { type: 'user_created', user_id: made.id, details: { via: 'cli', is_superuser: true } },
            null,
          ),
          ...noRequest,
        },
        {
          ...event(
            { type: 'users_imported', details: { rows: 4, imported: 3, skipped: 1, invalid: 0 } },
            null,
          ),
          ...noRequest,
        },
      ])
    } finally {
      await deps.close()
    }
  })

  it('takes the address from X-Forwarded-For only when TRUST_PROXY trusts the peer', async () => {
    for (const trustProxy of [undefined, ['127.0.0.1']]) {
      const t = await buildAdminApp({ trustProxy })
      const tail = auditTail(t.database)
      await tail.skip()
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/token',
        remoteAddress: '127.0.0.1',
        payload: form({ username: ADMIN.email, password: ADMIN.password }).payload,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-forwarded-for': '203.0.113.9',
        },
      })
      expect(res.statusCode).toBe(200)
      const [signedIn] = await tail.next()
      expect(signedIn?.ip).toBe(trustProxy ? '203.0.113.9' : '127.0.0.1')
    }
  })

  it('records client registration, changes, rotation and deletion with the admin as actor', async () => {
    const { call, tail, admin } = await setup()
    const send = async (method: 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) => {
      const r = await call(method, url, { headers: admin.headers, payload })
      expect(r.res.statusCode, r.res.body).toBeLessThan(300)
      return r
    }
    const created = await send('POST', '/api/v1/clients', {
      name: 'Audited',
      type: 'confidential',
      redirect_uris: ['https://app.example/cb'],
    })
    const id = created.res.json().client_id as string
    const by = { actor_id: admin.id, client_id: id }
    expect(await tail.next()).toEqual([
      event(
        { type: 'client_created', ...by, details: { type: 'confidential', first_party: false } },
        created.requestId,
      ),
    ])
    const patched = await send('PATCH', `/api/v1/clients/${id}`, {
      name: 'Renamed',
      scopes: ['openid'],
    })
    expect(await tail.next()).toEqual([
      event(
        { type: 'client_updated', ...by, details: { fields: 'name scopes' } },
        patched.requestId,
      ),
    ])
    const rotated = await send('POST', `/api/v1/clients/${id}/secret`)
    expect(await tail.next()).toEqual([
      event({ type: 'client_secret_rotated', ...by }, rotated.requestId),
    ])
    const deleted = await send('DELETE', `/api/v1/clients/${id}`)
    expect(await tail.next()).toEqual([
      event({ type: 'client_deleted', ...by, details: { sessions_revoked: 0 } }, deleted.requestId),
    ])
  })

  it('records factor enrolment, use, failed second steps, removal and the admin reset', async () => {
    const { call, signUp, signIn, tail, clock, admin, appId, database } = await setup()
    const user = await signUp()
    const { headers } = await signIn(user)
    const ok = <R extends { res: { statusCode: number; body: string } }>(r: R) => {
      expect(r.res.statusCode, r.res.body).toBeLessThan(300)
      return r
    }
    const enrol = async () => {
      const begun = ok(
        await call('POST', '/api/v1/users/me/mfa/totp', {
          headers,
          payload: { password: user.password },
        }),
      )
      const secret = begun.res.json().secret as string
      const confirmed = ok(
        await call('POST', '/api/v1/users/me/mfa/totp/confirm', {
          headers,
          payload: { code: await totpAt(secret, clock) },
        }),
      )
      clock.advanceSeconds(30)
      return { secret, confirmed, codes: confirmed.res.json().recovery_codes as string[] }
    }
    await tail.skip()
    const { secret, confirmed, codes } = await enrol()
    const mine = { user_id: user.id }
    // Starting enrolment is no event: the factor exists once confirmed.
    expect(await tail.next()).toEqual([
      event({ type: 'factor_enrolled', ...mine, details: { factor: 'totp' } }, confirmed.requestId),
    ])

    // The right password is no failure: mfa_required writes nothing.
    const password = { username: user.email, password: user.password, client_id: appId }
    const first = await call('POST', '/api/v1/auth/token', { form: password })
    expect(first.res.statusCode).toBe(403)
    expect(await tail.next()).toEqual([])
    const mfaToken = first.res.json().mfa_token as string

    // Wrong codes: one sign_in_failed, folded like wrong passwords.
    const good = await totpAt(secret, clock)
    const bad = String((Number(good) + 500_000) % 1_000_000).padStart(6, '0')
    const second = { grant_type: MFA_GRANT, mfa_token: mfaToken, client_id: appId }
    const wrong = await call('POST', '/api/v1/auth/token', { form: { ...second, otp: bad } })
    expect(wrong.res.statusCode).toBe(400)
    const failed = { type: 'sign_in_failed', ...mine, client_id: appId }
    const reason = { reason: 'second_factor_failed' }
    expect(await tail.next()).toEqual([event({ ...failed, details: reason }, wrong.requestId)])
    await call('POST', '/api/v1/auth/token', { form: { ...second, otp: bad } })
    const folded = (await auditRows(database)).filter((r) => r.type === 'sign_in_failed')
    expect(folded.map((r) => Number(r.count))).toEqual([2])

    const right = await call('POST', '/api/v1/auth/token', { form: { ...second, otp: good } })
    expect(right.res.statusCode, right.res.body).toBe(200)
    const pwdOtp = { amr: 'pwd otp mfa' }
    expect(await tail.next()).toEqual([
      event(
        { type: 'factor_used', ...mine, client_id: appId, details: { factor: 'totp' } },
        right.requestId,
      ),
      event(
        { type: 'sign_in_succeeded', ...mine, client_id: appId, details: pwdOtp },
        right.requestId,
      ),
    ])

    // A recovery code, by the JSON second step (the built-in client).
    const again = await call('POST', '/api/v1/auth/login', {
      payload: { email: user.email, password: user.password },
    })
    const recovered = await call('POST', '/api/v1/auth/login/mfa', {
      payload: { mfa_token: again.res.json().mfa_token, recovery_code: codes[0] },
    })
    expect(recovered.res.statusCode, recovered.res.body).toBe(200)
    const builtin = { ...mine, client_id: 'keygate' }
    expect(await tail.next()).toEqual([
      event(
        { type: 'recovery_code_used', ...builtin, details: { codes_left: 9 } },
        recovered.requestId,
      ),
      event({ type: 'sign_in_succeeded', ...builtin, details: pwdOtp }, recovered.requestId),
    ])

    clock.advanceSeconds(30)
    const regenerated = ok(
      await call('POST', '/api/v1/users/me/mfa/recovery-codes', {
        headers,
        payload: { password: user.password, code: await totpAt(secret, clock) },
      }),
    )
    expect(await tail.next()).toEqual([
      event({ type: 'recovery_codes_regenerated', ...mine }, regenerated.requestId),
    ])
    clock.advanceSeconds(30)
    const disabled = ok(
      await call('DELETE', '/api/v1/users/me/mfa/totp', {
        headers,
        payload: { password: user.password, code: await totpAt(secret, clock) },
      }),
    )
    expect(await tail.next()).toEqual([
      event({ type: 'factor_removed', ...mine, details: { factor: 'totp' } }, disabled.requestId),
    ])

    await enrol()
    await tail.skip()
    const reset = ok(
      await call('POST', `/api/v1/users/${user.id}/mfa/reset`, { headers: admin.headers }),
    )
    expect(await tail.next()).toEqual([
      event(
        { type: 'factor_removed', ...mine, actor_id: admin.id, details: { factor: 'all' } },
        reset.requestId,
      ),
    ])
  })

  it('records verification mails, verification and an email change by link', async () => {
    const smtp = await startSmtpServer()
    const { call, signUp, signIn, tail, database } = await setup({ smtpUrl: smtp.url })
    const user = await signUp()
    const mail = await smtp.nextMail()
    // The event commits before the mail goes: by now it is there.
    const mine = { user_id: user.id }
    expect((await tail.next()).filter((e) => e.type !== 'user_created')).toEqual([
      event({ type: 'email_verification_requested', ...mine }, user.requestId),
    ])
    const verified = await call('POST', '/api/v1/auth/verify-email/confirm', {
      payload: { token: verifyTokenIn(mail.raw) },
    })
    expect(verified.res.statusCode, verified.res.body).toBe(200)
    expect(await tail.next()).toEqual([
      event({ type: 'email_verified', ...mine }, verified.requestId),
    ])

    const { headers } = await signIn(user)
    await tail.skip()
    const to = randomEmail()
    const asked = await call('PATCH', '/api/v1/users/me', {
      headers,
      payload: { email: to, current_password: user.password },
    })
    expect(asked.res.statusCode, asked.res.body).toBe(200)
    // The account's own action: the signed-in user is the actor, as for email_changed without SMTP.
    expect(await tail.next()).toEqual([
      event({ type: 'email_change_requested', ...mine, actor_id: user.id }, asked.requestId),
    ])
    const link = (await smtp.nextMail()).raw
    await smtp.nextMail()
    const changed = await call('POST', '/api/v1/auth/verify-email/confirm', {
      payload: { token: verifyTokenIn(link) },
    })
    expect(changed.res.statusCode, changed.res.body).toBe(200)
    expect(await tail.next()).toEqual([
      event({ type: 'email_changed', ...mine, details: { by: 'link' } }, changed.requestId),
    ])
    // Neither address is in any event.
    const text = JSON.stringify(await auditRows(database))
    expect(text).not.toContain(to)
    expect(text).not.toContain(user.email)
  })
})
