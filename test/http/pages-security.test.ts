import { describe, expect, it } from 'vitest'
import { buildAdminApp } from '../helpers/accounts.js'
import { buildTestApp } from '../helpers/app.js'
import { createUser, form, loginAs } from '../helpers/factories.js'
import { csrfOf, pageClient, signInPage } from '../helpers/pages.js'
import { throttled } from '../helpers/rate-limit.js'

const ORIGIN = 'http://localhost:8000'

async function setup(overrides = {}) {
  const t = await buildTestApp({ publicUrl: ORIGIN, ...overrides })
  return { ...t, client: pageClient(t.app, ORIGIN) }
}

const PAGES = [
  '/signin',
  '/signup',
  '/forgot-password',
  '/reset-password',
  '/signed-out',
  '/account',
  '/verify-email',
  '/signin/second-step',
]

describe('hosted pages: headers', () => {
  it('every page, error page and redirect forbids framing under a strict CSP, and is not stored', async () => {
    const { client } = await setup()
    const refused = await client.post('/signin', { username: 'a', password: 'b' }, { csrf: null })
    for (const res of [...(await Promise.all(PAGES.map((p) => client.get(p)))), refused]) {
      const csp = res.headers['content-security-policy'] as string
      expect(csp).toBe(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
      )
      expect(res.headers['x-frame-options']).toBe('DENY')
      expect(res.headers['referrer-policy']).toBe('same-origin')
      expect(res.headers['cache-control']).toBe('no-store')
    }
  })

  it('serves one cacheable stylesheet, and pages hold no inline script or style', async () => {
    const { app, client } = await setup()
    const css = await app.inject({ method: 'GET', url: '/assets/keygate.css' })
    expect(css.statusCode).toBe(200)
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8')
    expect(css.headers['cache-control']).toBe('public, max-age=86400')
    for (const path of PAGES.slice(0, 5)) {
      const html = (await client.get(path)).body
      expect(html, path).toContain('<link rel="stylesheet" href="/assets/keygate.css"/>')
      expect(html, path).not.toMatch(/<script|<style|\sstyle=|\son[a-z]+=/i)
    }
  })

  it('prefixes links and forms with the path of PUBLIC_URL', async () => {
    const { client } = await setup({ publicUrl: 'http://localhost:8000/auth' })
    const html = (await client.get('/signin')).body
    expect(html).toContain('action="/auth/signin"')
    expect(html).toContain('href="/auth/assets/keygate.css"')
  })
})

describe('hosted pages: forms as SPEC §8 names them', () => {
  const input = (html: string, name: string) =>
    new RegExp(`<input[^>]*name="${name}"[^>]*>`).exec(html)?.[0] ?? ''

  it('sign-in, sign-up, reset and account fields carry the autocomplete password managers need', async () => {
    const { client, app } = await setup()
    const signin = (await client.get('/signin')).body
    expect(input(signin, 'username')).toContain('autocomplete="username"')
    expect(input(signin, 'password')).toContain('autocomplete="current-password"')
    expect(input(signin, 'password')).toContain('type="password"')
    expect(signin).toMatch(/<label for="username">/)
    const signup = (await client.get('/signup')).body
    expect(input(signup, 'email')).toContain('autocomplete="email"')
    expect(input(signup, 'password')).toContain('autocomplete="new-password"')
    const user = await createUser(app)
    await signInPage(client, user)
    const account = (await client.get('/account')).body
    expect(input(account, 'new_password')).toContain('autocomplete="new-password"')
    // Every form carries its token.
    for (const html of [signin, signup, account]) {
      const forms = html.match(/<form /g)?.length ?? 0
      expect(forms).toBeGreaterThan(0)
      expect(html.match(/name="csrf_token"/g)?.length).toBe(forms)
    }
  })

  it('ties a field error to its field', async () => {
    const { client } = await setup()
    const res = await client.post('/signup', { email: 'not-an-email', password: 'x' })
    expect(res.statusCode).toBe(400)
    expect(res.body).toMatch(/aria-invalid="true" aria-describedby="email-error"/)
    expect(res.body).toContain('<p id="email-error" class="error">Enter a valid email address.</p>')
  })

  it('escapes what the visitor typed', async () => {
    const { client } = await setup()
    const res = await client.get('/signin?login_hint=%22%3E%3Cscript%3Ealert(1)%3C/script%3E')
    expect(res.body).not.toContain('<script>')
    expect(res.body).toContain('value="&quot;>&lt;script>alert(1)&lt;/script>"')
  })
})

describe('hosted pages: CSRF', () => {
  it('refuses a post without the token, with a wrong one, or with another browser’s', async () => {
    const { app, client } = await setup()
    const user = await createUser(app)
    const fields = { username: user.email, password: user.password }
    const other = pageClient(app, ORIGIN)
    const othersToken = csrfOf((await other.get('/signin')).body)
    for (const csrf of [null, 'wrong', othersToken]) {
      const res = await client.post('/signin', fields, { csrf, from: '/signin' })
      expect(res.statusCode).toBe(403)
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8')
      expect(res.body).toContain('The form has expired or was sent from another site.')
      expect(client.jar.cookies.has('keygate_session')).toBe(false)
    }
    // Without any cookie the token cannot match either (login CSRF).
    const bare = await app.inject({
      method: 'POST',
      url: '/signin',
      headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        ...fields,
        csrf_token: csrfOf((await client.get('/signin')).body),
      }).toString(),
    })
    expect(bare.statusCode).toBe(403)
    expect(bare.headers['set-cookie']).not.toMatch(/keygate_session/)
  })

  it('refuses a post from another origin, or with no Origin unless the browser says same-origin', async () => {
    const { app, client } = await setup()
    const user = await createUser(app)
    const fields = { username: user.email, password: user.password }
    for (const origin of ['https://evil.example', 'http://localhost:8001', 'null', null]) {
      expect((await client.post('/signin', fields, { origin })).statusCode, String(origin)).toBe(
        403,
      )
    }
    const crossSite = await client.post('/signin', fields, {
      origin: null,
      headers: { 'sec-fetch-site': 'cross-site' },
    })
    expect(crossSite.statusCode).toBe(403)
    const sameOrigin = await client.post('/signin', fields, {
      origin: null,
      headers: { 'sec-fetch-site': 'same-origin' },
    })
    expect(sameOrigin.statusCode).toBe(303)
    // Browsers send `Origin: null` from a no-referrer page; their Sec-Fetch-Site still tells.
    const nullOrigin = await client.post('/signin', fields, {
      origin: 'null',
      headers: { 'sec-fetch-site': 'same-origin' },
    })
    expect(nullOrigin.statusCode).toBe(303)
  })

  it('guards every page post, signed in or not', async () => {
    const { app, client } = await setup()
    const user = await createUser(app)
    await signInPage(client, user)
    for (const url of [
      '/signup',
      '/forgot-password',
      '/reset-password',
      '/signout',
      '/account/profile',
      '/account/password',
    ]) {
      const res = await client.post(url, {}, { csrf: null, from: '/signin' })
      expect(res.statusCode, url).toBe(403)
    }
    expect((await client.get('/account')).statusCode).toBe(200)
  })
})

describe('hosted pages: sign-in', () => {
  it('answers an unknown account and a wrong password identically', async () => {
    const { app, client } = await setup()
    const user = await createUser(app)
    const unknown = await client.post('/signin', {
      username: 'nobody@example.com',
      password: 'Wrong-pass-1',
    })
    const wrong = await client.post('/signin', { username: user.email, password: 'Wrong-pass-1' })
    expect(unknown.statusCode).toBe(400)
    expect(wrong.statusCode).toBe(400)
    const strip = (html: string, login: string) => html.replace(login, 'LOGIN')
    expect(strip(wrong.body, user.email)).toBe(strip(unknown.body, 'nobody@example.com'))
    expect(wrong.body).toContain('The email, username or password is incorrect.')
    expect(wrong.headers['set-cookie']).toBeUndefined()
  })

  it('treats an inactive account like the token endpoint: refused only after the right password', async () => {
    const { app, admin } = await buildAdminApp({ publicUrl: ORIGIN })
    const client = pageClient(app, ORIGIN)
    const user = await createUser(app)
    await app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${user.id}`,
      headers: admin.headers,
      payload: { is_active: false },
    })
    const wrong = await client.post('/signin', { username: user.email, password: 'Wrong-pass-1' })
    expect(wrong.statusCode).toBe(400)
    const right = await client.post('/signin', { username: user.email, password: user.password })
    expect(right.statusCode).toBe(403)
    expect(right.body).toContain('This account has been deactivated.')
    expect(client.jar.cookies.has('keygate_session')).toBe(false)
  })

  it('shares the token endpoint’s throttle: failures on either count for both', async () => {
    const { app, client } = await setup(throttled({ accountClientFailures: 3 }))
    const user = await createUser(app)
    const token = (password: string) =>
      app.inject({
        method: 'POST',
        url: '/api/v1/auth/token',
        ...form({ username: user.email, password }),
      })
    expect((await token('Wrong-pass-1')).statusCode).toBe(400)
    expect(
      (await client.post('/signin', { username: user.email, password: 'Wrong-pass-2' })).statusCode,
    ).toBe(400)
    expect((await token('Wrong-pass-3')).statusCode).toBe(400)
    const page = await client.post('/signin', { username: user.email, password: user.password })
    expect(page.statusCode).toBe(429)
    expect(Number(page.headers['retry-after'])).toBeGreaterThan(0)
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(page.body).toContain('too many attempts')
    expect((await token(user.password)).statusCode).toBe(429)
  })

  it('follows a return_to on Keygate and ignores one that leaves it', async () => {
    const { app, client } = await setup()
    const user = await createUser(app)
    const fields = { username: user.email, password: user.password }
    for (const bad of [
      '//evil.example',
      'https://evil.example',
      '/\\evil.example',
      '/\t/evil.example',
      'evil',
      'javascript:alert(1)',
    ]) {
      const shown = await client.get(`/signin?return_to=${encodeURIComponent(bad)}`)
      expect(shown.body, bad).not.toContain('name="return_to"')
      const res = await client.post('/signin', { ...fields, return_to: bad })
      expect(res.statusCode, bad).toBe(303)
      expect(res.headers.location, bad).toBe('/account')
    }
    const good = '/oauth/authorize?client_id=app&state=a%26b'
    const res = await client.post('/signin', { ...fields, return_to: good })
    // A page that moves on by itself: a redirect chain after a form post would be held to form-action.
    expect(res.statusCode).toBe(200)
    expect(res.body).toContain(
      '<meta http-equiv="refresh" content="0;url=/oauth/authorize?client_id=app&amp;state=a%26b"/>',
    )
    expect(res.body).toContain(
      '<a href="/oauth/authorize?client_id=app&amp;state=a%26b">Continue</a>',
    )
  })
})

describe('browser session cookie', () => {
  it('is HttpOnly, SameSite=Lax, Path=/, with no Secure under http', async () => {
    const { app, client } = await setup()
    const res = await signInPage(client, await createUser(app))
    const line = (res.headers['set-cookie'] as string[]).find((l) =>
      l.startsWith('keygate_session='),
    )
    expect(line).toMatch(/^keygate_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax$/)
  })

  it('is __Host- and Secure under an https PUBLIC_URL, as is the CSRF cookie', async () => {
    const origin = 'https://auth.example.com'
    const { app } = await buildTestApp({ publicUrl: origin })
    const client = pageClient(app, origin)
    const shown = await client.get('/signin')
    expect(shown.headers['set-cookie']).toMatch(
      /^__Host-keygate_csrf=[\w-]{43}; Path=\/; HttpOnly; Secure; SameSite=Lax$/,
    )
    const res = await signInPage(client, await createUser(app))
    const line = (res.headers['set-cookie'] as string[]).find((l) =>
      l.startsWith('__Host-keygate_session='),
    )
    expect(line).toMatch(
      /^__Host-keygate_session=[\w-]{43}; Path=\/; HttpOnly; Secure; SameSite=Lax$/,
    )
    expect(line).not.toMatch(/Domain=/i)
    expect((await client.get('/account')).statusCode).toBe(200)
  })

  it('never authenticates an API call, and is listed among the user’s sessions', async () => {
    const { app, client } = await setup()
    const user = await createUser(app)
    await signInPage(client, user)
    for (const url of ['/api/v1/users/me', '/api/v1/users/me/sessions']) {
      const res = await app.inject({ method: 'GET', url, headers: { cookie: client.jar.header() } })
      expect(res.statusCode, url).toBe(401)
    }
    const { headers } = await loginAs(app, user)
    const sessions = await app.inject({ method: 'GET', url: '/api/v1/users/me/sessions', headers })
    expect(sessions.json()).toHaveLength(2)
    expect(sessions.json().map((s: { user_agent: string }) => s.user_agent)).toContain(
      'lightMyRequest',
    )
  })
})

describe('hosted pages: other forms', () => {
  it('forgot-password answers the same for a known and an unknown email', async () => {
    const { app, client } = await setup()
    const user = await createUser(app)
    const known = await client.post('/forgot-password', { email: user.email })
    const unknown = await client.post('/forgot-password', { email: 'nobody@example.com' })
    expect(known.statusCode).toBe(200)
    expect(known.body).toBe(unknown.body)
    expect(known.body).toContain(
      'If an account uses this email, a password reset link has been sent to it.',
    )
  })

  it('sign-up reports a taken email on its field and signs in otherwise', async () => {
    const { app, client } = await setup()
    const user = await createUser(app)
    const taken = await client.post('/signup', { email: user.email, password: 'Pw-long-enough-1' })
    expect(taken.statusCode).toBe(409)
    expect(taken.body).toContain(
      '<p id="email-error" class="error">An account already uses this email.</p>',
    )
    const made = await client.post('/signup', {
      email: `x${user.email}`,
      password: 'Pw-long-enough-1',
    })
    expect(made.statusCode).toBe(303)
    expect(made.headers.location).toBe('/account')
    expect(client.jar.cookies.has('keygate_session')).toBe(true)
  })

  it('answers a malformed request with the 400 page, never JSON or a stack', async () => {
    const { client } = await setup()
    const res = await client.get('/signin?return_to=/a&return_to=/b')
    expect(res.statusCode).toBe(400)
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(res.body).toContain('This request could not be understood.')
    const post = await client.post('/account/sessions/not-a-uuid/signout', {}, { from: '/signin' })
    expect(post.statusCode).toBe(400)
    expect(post.body).not.toMatch(/at .*\.ts|detail/)
  })
})
