import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { describe, expect, it } from 'vitest'
import type { AuditEvent } from '../../src/domain/audit.js'
import { createPasskeysRepo } from '../../src/repos/accounts/passkeys.js'
import { ADMIN, buildAdminApp } from '../helpers/accounts.js'
import { buildTestApp } from '../helpers/app.js'
import { auditTail } from '../helpers/audit.js'
import { basicAuth, tokenRequest } from '../helpers/clients.js'
import { createUser, loginAs } from '../helpers/factories.js'
import { pageClient, signInPage } from '../helpers/pages.js'
import { isVerificationMail, resetTokenIn, startSmtpServer } from '../helpers/smtp.js'
import { enableTotp } from '../helpers/totp.js'

const ORIGIN = 'http://localhost:8000'
const SOME_ID = '00000000-0000-4000-8000-000000000000'

/**
 * Every route under /admin with its methods, read from Fastify's own route
 * tree, so a page added later is in these tests without anyone listing it.
 */
function adminRoutes(app: FastifyInstance): { method: string; url: string }[] {
  const paths: string[] = []
  const routes: { method: string; url: string }[] = []
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([│ ]*)[├└]── (\S+)(?: \(([^)]*)\))?/.exec(line)
    if (!m) continue
    const depth = (m[1]?.length ?? 0) / 4
    paths.length = depth
    const path = `${depth > 0 ? paths[depth - 1] : ''}${m[2]}`
    paths[depth] = path
    if (!m[3] || !path.startsWith('/admin')) continue
    for (const method of m[3].split(', ')) {
      if (method === 'HEAD') continue
      routes.push({ method, url: path.replace(/:[a-z_]+/g, SOME_ID) })
    }
  }
  return routes
}

/** The events of an admin action (signup's verification mail is audited in the background). */
const adminEvents = (events: AuditEvent[]) =>
  events.filter((e) => e.type !== 'email_verification_requested')

async function consoleApp(overrides = {}) {
  const t = await buildAdminApp({ publicUrl: ORIGIN, ...overrides })
  const browser = pageClient(t.app, ORIGIN)
  await signInPage(browser, ADMIN)
  return { ...t, browser }
}

describe('admin console access', () => {
  it('lists a fair number of admin routes (the tree parser works)', async () => {
    const { app } = await buildTestApp({ publicUrl: ORIGIN })
    const routes = adminRoutes(app)
    expect(routes).toContainEqual({ method: 'GET', url: '/admin' })
    expect(routes).toContainEqual({ method: 'GET', url: `/admin/users/${SOME_ID}` })
    expect(routes).toContainEqual({ method: 'POST', url: `/admin/users/${SOME_ID}/deactivate` })
    expect(routes.filter((r) => r.method === 'POST').length).toBeGreaterThanOrEqual(5)
  })

  it('a signed-in non-superuser gets 403 on every admin page and every admin post', async () => {
    const { app } = await buildAdminApp({ publicUrl: ORIGIN })
    const user = await createUser(app)
    const browser = pageClient(app, ORIGIN)
    await signInPage(browser, user)
    const routes = adminRoutes(app)
    for (const route of routes) {
      const res =
        route.method === 'GET'
          ? await browser.get(route.url)
          : // A valid form token, so it is the superuser check that refuses.
            await browser.post(route.url, {}, { from: '/account' })
      expect(res.statusCode, `${route.method} ${route.url}`).toBe(403)
      expect(res.body).toContain('Only administrators can use the admin console.')
      expect(res.headers['content-type']).toContain('text/html')
    }
  })

  it('sends a signed-out browser to sign in, and back to the page it asked for', async () => {
    const { app } = await buildTestApp({ publicUrl: ORIGIN })
    for (const route of adminRoutes(app)) {
      const browser = pageClient(app, ORIGIN)
      const res =
        route.method === 'GET'
          ? await browser.get(route.url)
          : await browser.post(route.url, {}, { from: '/signin' })
      expect(res.statusCode, `${route.method} ${route.url}`).toBe(303)
      const back = route.method === 'GET' ? route.url : '/admin'
      expect(res.headers.location).toBe(`/signin?${new URLSearchParams({ return_to: back })}`)
    }
  })

  it('signing in from the redirect lands on the console', async () => {
    const { app } = await buildAdminApp({ publicUrl: ORIGIN })
    const browser = pageClient(app, ORIGIN)
    const first = await browser.get('/admin/users?q=root')
    expect(first.headers.location).toBe('/signin?return_to=%2Fadmin%2Fusers%3Fq%3Droot')
    const signin = await browser.post(
      '/signin?return_to=%2Fadmin%2Fusers%3Fq%3Droot',
      { username: ADMIN.email, password: ADMIN.password, return_to: '/admin/users?q=root' },
      { from: '/signin?return_to=%2Fadmin%2Fusers%3Fq%3Droot' },
    )
    expect(signin.statusCode).toBeLessThan(400)
    const page = await browser.get('/admin/users?q=root')
    expect(page.statusCode).toBe(200)
    expect(page.body).toContain(ADMIN.email)
  })

  it('checks the superuser flag on every request: a demoted admin loses the console at once', async () => {
    const { app, admin, browser } = await consoleApp()
    const other = await createUser(app)
    const promote = await app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${other.id}`,
      headers: admin.headers,
      payload: { is_superuser: true },
    })
    expect(promote.statusCode).toBe(200)
    const second = pageClient(app, ORIGIN)
    await signInPage(second, other)
    expect((await second.get('/admin/users')).statusCode).toBe(200)
    await app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${other.id}`,
      headers: admin.headers,
      payload: { is_superuser: false },
    })
    expect((await second.get('/admin/users')).statusCode).toBe(403)
    // And a signed-out session is no way in either.
    await browser.post('/signout', {}, { from: '/account' })
    expect((await browser.get('/admin/users')).statusCode).toBe(303)
  })

  it('refuses an admin post without its CSRF token, or from another origin, and changes nothing', async () => {
    const { app, browser } = await consoleApp()
    const user = await createUser(app)
    const api = await loginAs(app, user)
    const url = `/admin/users/${user.id}/deactivate`
    const noToken = await browser.post(url, {}, { csrf: null })
    expect(noToken.statusCode).toBe(403)
    expect(noToken.body).toContain('The form has expired or was sent from another site.')
    const foreign = await browser.post(
      url,
      {},
      { from: '/admin/users', origin: 'https://evil.example' },
    )
    expect(foreign.statusCode).toBe(403)
    const me = await app.inject({ method: 'GET', url: '/api/v1/users/me', headers: api.headers })
    expect(me.statusCode).toBe(200)
  })
})

describe('admin console: users', () => {
  it('searches by email and username and pages through the list', async () => {
    const { app, browser } = await consoleApp()
    const alice = await createUser(app, { username: 'alice_admin_test' })
    for (let i = 0; i < 21; i++) await createUser(app)
    const byName = await browser.get('/admin/users?q=ALICE_admin')
    expect(byName.body).toContain(alice.email)
    expect(byName.body).toContain('1 user ·')
    const byEmail = await browser.get(`/admin/users?q=${encodeURIComponent(alice.email)}`)
    expect(byEmail.body).toContain(`/admin/users/${alice.id}`)
    // LIKE wildcards match themselves only.
    expect((await browser.get('/admin/users?q=%25')).body).toContain('0 users')
    expect((await browser.get('/admin/users?q=_')).body).toContain('1 user ·')
    const first = await browser.get('/admin/users')
    expect(first.body).toContain('23 users · page 1 of 2')
    expect(first.body).toContain('href="/admin/users?page=2"')
    const second = await browser.get('/admin/users?page=2')
    expect(second.body).toContain('page 2 of 2')
    expect((second.body.match(/<tr>/g) ?? []).length).toBe(1 + 3)
    expect((await browser.get('/admin/users?page=0')).statusCode).toBe(400)
    expect((await browser.get('/admin/users/not-a-uuid')).statusCode).toBe(400)
    expect((await browser.get(`/admin/users/${SOME_ID}`)).statusCode).toBe(404)
  })

  it('deactivates (tokens die at once) and reactivates, audited with the acting admin', async () => {
    const { app, admin, database, browser } = await consoleApp()
    const user = await createUser(app)
    const api = await loginAs(app, user)
    const tail = auditTail(database)
    await tail.skip()
    const off = await browser.post(
      `/admin/users/${user.id}/deactivate`,
      {},
      {
        from: `/admin/users/${user.id}`,
      },
    )
    expect(off.statusCode).toBe(303)
    expect(off.headers.location).toBe(`/admin/users/${user.id}?done=deactivated`)
    const me = () => app.inject({ method: 'GET', url: '/api/v1/users/me', headers: api.headers })
    expect((await me()).statusCode).toBe(401)
    const page = await browser.get(`/admin/users/${user.id}?done=deactivated`)
    expect(page.body).toContain('The user was deactivated and signed out everywhere.')
    expect(page.body).toContain('Deactivated')
    const events = adminEvents(await tail.next())
    expect(events).toMatchObject([
      { type: 'user_deactivated', user_id: user.id, actor_id: admin.id, ip: '127.0.0.1' },
    ])
    expect(events[0]?.request_id).toBeTruthy()

    const on = await browser.post(
      `/admin/users/${user.id}/reactivate`,
      {},
      {
        from: `/admin/users/${user.id}`,
      },
    )
    expect(on.headers.location).toBe(`/admin/users/${user.id}?done=reactivated`)
    expect(adminEvents(await tail.next())).toMatchObject([
      { type: 'user_reactivated', user_id: user.id, actor_id: admin.id },
    ])
    // The old token stays dead (its session was revoked); a new sign-in works.
    expect((await me()).statusCode).toBe(401)
    await loginAs(app, user)
  })

  it('signs a user out everywhere and shows their sessions, audited', async () => {
    const { app, admin, database, browser } = await consoleApp()
    const user = await createUser(app)
    const api = await loginAs(app, user)
    const detail = await browser.get(`/admin/users/${user.id}`)
    expect(detail.body).toContain('id="sessions"')
    expect(detail.body).not.toContain('No live sessions.')
    const tail = auditTail(database)
    await tail.skip()
    const res = await browser.post(
      `/admin/users/${user.id}/revoke-sessions`,
      {},
      {
        from: `/admin/users/${user.id}`,
      },
    )
    expect(res.headers.location).toBe(`/admin/users/${user.id}?done=sessions`)
    const me = await app.inject({ method: 'GET', url: '/api/v1/users/me', headers: api.headers })
    expect(me.statusCode).toBe(401)
    expect(adminEvents(await tail.next())).toMatchObject([
      { type: 'sessions_revoked_by_admin', user_id: user.id, actor_id: admin.id },
    ])
    expect((await browser.get(`/admin/users/${user.id}`)).body).toContain('No live sessions.')
  })

  it('refuses to deactivate the last active superuser, with a sentence', async () => {
    const { admin, browser } = await consoleApp()
    const res = await browser.post(
      `/admin/users/${admin.id}/deactivate`,
      {},
      {
        from: `/admin/users/${admin.id}`,
      },
    )
    expect(res.statusCode).toBe(409)
    expect(res.body).toContain('This would leave no active superuser, so it was not done.')
  })

  it('sends a password reset link by mail, audited with the acting admin', async () => {
    const smtp = await startSmtpServer({ ignore: isVerificationMail })
    const { app, admin, database, browser } = await consoleApp({ smtpUrl: smtp.url })
    const user = await createUser(app)
    const tail = auditTail(database)
    await tail.skip()
    const res = await browser.post(
      `/admin/users/${user.id}/send-reset-link`,
      {},
      {
        from: `/admin/users/${user.id}`,
      },
    )
    expect(res.headers.location).toBe(`/admin/users/${user.id}?done=reset`)
    const mail = await smtp.nextMail()
    expect(mail.to).toEqual([user.email])
    expect(resetTokenIn(mail.raw)).toBeTruthy()
    expect(adminEvents(await tail.next())).toMatchObject([
      { type: 'password_reset_requested', user_id: user.id, actor_id: admin.id },
    ])
  })
})

describe('admin console: factors', () => {
  it('resets a user’s second factors, mails them, audited with the acting admin', async () => {
    const smtp = await startSmtpServer({ ignore: isVerificationMail })
    const { app, admin, clock, database, browser } = await consoleApp({ smtpUrl: smtp.url })
    const user = await createUser(app)
    const { headers } = await loginAs(app, user)
    await enableTotp(app, clock, headers, user.password)
    await createPasskeysRepo(database.db).insert({
      id: randomUUID(),
      user_id: user.id,
      credential_id: 'Y3JlZGVudGlhbA',
      public_key: new Uint8Array(8),
      counter: 0,
      transports: [],
      device_type: 'singleDevice',
      backed_up: false,
      name: 'Laptop',
      created_at: clock.now(),
    })
    const before = (await browser.get(`/admin/users/${user.id}`)).body
    expect(before).toContain('Authenticator app: on')
    expect(before).toContain('passkeys: 1')
    const tail = auditTail(database)
    await tail.skip()
    const res = await browser.post(
      `/admin/users/${user.id}/reset-factors`,
      {},
      {
        from: `/admin/users/${user.id}`,
      },
    )
    expect(res.headers.location).toBe(`/admin/users/${user.id}?done=factors`)
    expect(adminEvents(await tail.next())).toMatchObject([
      { type: 'factor_removed', user_id: user.id, actor_id: admin.id },
    ])
    expect((await smtp.nextMail()).to).toEqual([user.email])
    const after = (await browser.get(`/admin/users/${user.id}`)).body
    expect(after).toContain('Authenticator app: off')
    expect(after).toContain('passkeys: 0')
    // Password alone signs in again.
    await loginAs(app, user)
  })
})

describe('admin console: clients', () => {
  const form = {
    name: 'Billing',
    type: 'confidential',
    redirect_uris: 'https://billing.example/cb\r\nhttps://billing.example/cb2',
    post_logout_redirect_uris: '',
    grant_types: 'client_credentials',
    scopes: 'openid',
  }

  it('registers a client and shows its secret once, audited', async () => {
    const { app, admin, database, browser } = await consoleApp()
    const tail = auditTail(database)
    await tail.skip()
    const res = await browser.post('/admin/clients/new', form, { from: '/admin/clients/new' })
    expect(res.statusCode).toBe(200)
    const id = /id="client-id">([^<]+)</.exec(res.body)?.[1] ?? ''
    const secret = /id="client-secret">([^<]+)</.exec(res.body)?.[1] ?? ''
    expect(secret.length).toBeGreaterThan(30)
    const events = adminEvents(await tail.next())
    expect(events).toMatchObject([{ type: 'client_created', client_id: id, actor_id: admin.id }])
    expect(JSON.stringify(events)).not.toContain(secret)
    const token = await app.inject(
      tokenRequest({ grant_type: 'client_credentials' }, basicAuth(id, secret)),
    )
    expect(token.statusCode, token.body).toBe(200)
    // Never shown again.
    const page = await browser.get(`/admin/clients/${id}`)
    expect(page.body).not.toContain(secret)
    expect(page.body).toContain('https://billing.example/cb\nhttps://billing.example/cb2')
    expect((await browser.get('/admin/clients')).body).toContain(`/admin/clients/${id}`)
  })

  it('re-renders a refused client with sentences next to the fields', async () => {
    const { browser } = await consoleApp()
    const res = await browser.post(
      '/admin/clients/new',
      {
        ...form,
        name: '',
        redirect_uris: 'http://evil.example/cb#x',
        grant_types: 'authorization_code',
      },
      { from: '/admin/clients/new' },
    )
    expect(res.statusCode).toBe(400)
    expect(res.body).toContain('id="name-error"')
    expect(res.body).toMatch(/id="redirect_uris-error" class="error">[^<]*[a-z]/)
    expect(res.body).not.toContain('Value error')
  })

  it('edits, rotates the secret (old refused, new works) and deletes, each audited', async () => {
    const { app, admin, database, browser } = await consoleApp()
    const created = await browser.post('/admin/clients/new', form, { from: '/admin/clients/new' })
    const id = /id="client-id">([^<]+)</.exec(created.body)?.[1] ?? ''
    const old = /id="client-secret">([^<]+)</.exec(created.body)?.[1] ?? ''
    const tail = auditTail(database)
    await tail.skip()
    const path = `/admin/clients/${id}`

    const saved = await browser.post(
      path,
      {
        name: 'Billing 2',
        redirect_uris: 'https://billing.example/new',
        post_logout_redirect_uris: 'https://billing.example/bye',
        grant_types: ['client_credentials', 'authorization_code'],
        scopes: 'openid',
        first_party: '1',
      },
      { from: path },
    )
    expect(saved.headers.location).toBe(`${path}?done=saved`)
    const after = await browser.get(`${path}?done=saved`)
    expect(after.body).toContain('The client was saved.')
    expect(after.body).toContain('value="Billing 2"')
    expect(after.body).toContain('https://billing.example/bye')
    expect(after.body).toMatch(/value="authorization_code" checked/)
    expect(after.body).toMatch(/name="first_party" value="1" checked/)

    const rotated = await browser.post(`${path}/rotate-secret`, {}, { from: path })
    expect(rotated.statusCode).toBe(200)
    const fresh = /id="client-secret">([^<]+)</.exec(rotated.body)?.[1] ?? ''
    expect(fresh).not.toBe(old)
    const tokenWith = (secret: string) =>
      app.inject(tokenRequest({ grant_type: 'client_credentials' }, basicAuth(id, secret)))
    expect((await tokenWith(old)).statusCode).toBe(401)
    expect((await tokenWith(fresh)).statusCode).toBe(200)

    const deleted = await browser.post(`${path}/delete`, {}, { from: path })
    expect(deleted.headers.location).toBe('/admin/clients?done=deleted')
    expect((await tokenWith(fresh)).statusCode).toBe(401)
    expect((await browser.get(path)).statusCode).toBe(404)

    const events = adminEvents(await tail.next())
    expect(events.map((e) => [e.type, e.client_id, e.actor_id])).toEqual([
      ['client_updated', id, admin.id],
      ['client_secret_rotated', id, admin.id],
      ['client_deleted', id, admin.id],
    ])
    expect(JSON.stringify(events)).not.toContain(fresh)
  })

  it('shows the built-in client read-only and refuses changes to it', async () => {
    const { browser } = await consoleApp()
    const page = await browser.get('/admin/clients/keygate')
    expect(page.body).toContain('built-in client')
    expect(page.body).not.toContain('action="/admin/clients/keygate/delete"')
    const res = await browser.post(
      '/admin/clients/keygate/delete',
      {},
      {
        from: '/admin/clients/new',
      },
    )
    expect(res.statusCode).toBe(409)
    expect(res.body).toContain('The built-in client cannot be deleted.')
  })
})

describe('admin console: audit log', () => {
  it('filters by user, type and time, and pages with a cursor', async () => {
    const { app, admin, browser, clock } = await consoleApp()
    const user = await createUser(app)
    for (let i = 0; i < 3; i++) await loginAs(app, user)
    const all = await browser.get(`/admin/audit?user_id=${user.id}&type=sign_in_succeeded`)
    expect(all.statusCode).toBe(200)
    expect((all.body.match(/class="event-type">sign_in_succeeded</g) ?? []).length).toBe(3)
    expect(all.body).not.toContain('class="event-type">user_created<')
    const byAdmin = await browser.get(`/admin/audit?user_id=${admin.id}`)
    expect(byAdmin.body).not.toContain(`/admin/users/${user.id}"`)
    // Past `until`: nothing; from `since` onwards: everything.
    const before = new Date(clock.now().getTime() - 60_000).toISOString().slice(0, 16)
    const none = await browser.get(`/admin/audit?user_id=${user.id}&until=${before}`)
    expect(none.body).toContain('No events.')
    const since = await browser.get(`/admin/audit?user_id=${user.id}&since=${before}`)
    expect(since.body).toContain('class="event-type">user_created<')
    const bad = await browser.get('/admin/audit?user_id=nope&since=yesterday')
    expect(bad.statusCode).toBe(400)
    expect(bad.body).toContain('id="user_id-error"')
    expect(bad.body).toContain('id="since-error"')
    // 50 a page: walk the cursor.
    for (let i = 0; i < 50; i++) await loginAs(app, user)
    const first = await browser.get(`/admin/audit?user_id=${user.id}`)
    const older = /href="(\/admin\/audit\?[^"]*cursor=\d+)"/.exec(first.body)?.[1]
    expect(older).toBeDefined()
    const next = await browser.get((older ?? '').replaceAll('&amp;', '&'))
    expect(next.statusCode).toBe(200)
    expect(next.body).toContain('class="event-type">user_created<')
    expect(next.body).not.toMatch(/cursor=\d+"[^>]*>Older events/)
  })
})
