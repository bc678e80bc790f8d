import { describe, expect, it } from 'vitest'
import { buildTestApp } from '../helpers/app.js'
import { createUser, loginAs, randomEmail, strongPassword } from '../helpers/factories.js'

const signup = (payload: unknown) => ({
  method: 'POST' as const,
  url: '/api/v1/auth/signup',
  payload: payload as Record<string, unknown>,
})

function expectValidationBody(body: string, ...secrets: string[]) {
  const json = JSON.parse(body)
  expect(Array.isArray(json.detail)).toBe(true)
  expect(json.detail.length).toBeGreaterThan(0)
  for (const issue of json.detail) {
    expect(Array.isArray(issue.loc)).toBe(true)
    expect(typeof issue.msg).toBe('string')
    expect(typeof issue.type).toBe('string')
    expect(Object.keys(issue).sort()).toEqual(['loc', 'msg', 'type'])
  }
  for (const s of secrets) expect(body).not.toContain(s)
  return json.detail as { loc: (string | number)[]; msg: string; type: string }[]
}

describe('POST /api/v1/auth/signup', () => {
  it('creates a user: 201, public shape, Location', async () => {
    const { app } = await buildTestApp()
    const email = randomEmail()
    const res = await app.inject(signup({ email, password: strongPassword(), username: 'alice_1' }))
    expect(res.statusCode).toBe(201)
    const user = res.json()
    expect(Object.keys(user).sort()).toEqual(
      [
        'created_at',
        'email',
        'email_verified',
        'id',
        'is_active',
        'is_superuser',
        'username',
      ].sort(),
    )
    expect(user).toMatchObject({ email, username: 'alice_1', is_active: true, is_superuser: false })
    expect(user.id).toMatch(/^[0-9a-f-]{36}$/)
    expect(new Date(user.created_at).toString()).not.toBe('Invalid Date')
    expect(res.headers.location).toBe(`/api/v1/users/${user.id}`)
    expect(res.body).not.toMatch(/hash|password|\$argon2/i)
  })

  it('username is optional and null when absent', async () => {
    const { app } = await buildTestApp()
    const res = await app.inject(signup({ email: randomEmail(), password: strongPassword() }))
    expect(res.statusCode).toBe(201)
    expect(res.json().username).toBeNull()
  })

  it('409 for a duplicate email, compared case-insensitively and trimmed', async () => {
    const { app } = await buildTestApp()
    await createUser(app, { email: 'alice@example.com' })
    for (const email of ['alice@example.com', 'Alice@Example.com', '  ALICE@example.COM  ']) {
      const res = await app.inject(signup({ email, password: strongPassword() }))
      expect(res.statusCode, email).toBe(409)
      expect(res.json()).toEqual({ detail: 'Email already registered' })
    }
  })

  it('stores the email trimmed', async () => {
    const { app } = await buildTestApp()
    const res = await app.inject(
      signup({ email: '  bob@example.com ', password: strongPassword() }),
    )
    expect(res.statusCode).toBe(201)
    expect(res.json().email).toBe('bob@example.com')
  })

  it('409 for a duplicate username, compared case-insensitively', async () => {
    const { app } = await buildTestApp()
    await createUser(app, { username: 'Carol' })
    for (const username of ['Carol', 'carol', 'CAROL']) {
      const res = await app.inject(
        signup({ email: randomEmail(), password: strongPassword(), username }),
      )
      expect(res.statusCode, username).toBe(409)
      expect(res.json()).toEqual({ detail: 'Username already taken' })
    }
  })

  it('422 for bad input, in FastAPI shape, never echoing the submitted values', async () => {
    const { app } = await buildTestApp()
    const password = 'Sup3r-Secret-Value'
    const cases: [string, Record<string, unknown>, string][] = [
      ['invalid email', { email: 'not-an-email-xyzzy', password }, 'email'],
      ['short password', { email: randomEmail(), password: 'Sh0rt!x' }, 'password'],
      ['long password', { email: randomEmail(), password: 'p'.repeat(1025) }, 'password'],
      ['username with @', { email: randomEmail(), password, username: 'a@b' }, 'username'],
      ['username of 2', { email: randomEmail(), password, username: 'ab' }, 'username'],
      ['username of 33', { email: randomEmail(), password, username: 'a'.repeat(33) }, 'username'],
      ['missing email', { password }, 'email'],
      ['missing password', { email: 'someone-unique@example.com' }, 'password'],
      ['numeric password', { email: randomEmail(), password: 12345678 }, 'password'],
      ['numeric email', { email: 1234, password }, 'email'],
      ['array username', { email: randomEmail(), password, username: ['abc'] }, 'username'],
    ]
    for (const [name, payload, field] of cases) {
      const res = await app.inject(signup(payload))
      expect(res.statusCode, name).toBe(422)
      const secrets = [password, 'not-an-email-xyzzy', 'someone-unique@example.com', 'Sh0rt!x']
      const detail = expectValidationBody(res.body, ...secrets)
      expect(
        detail.some((d) => d.loc[0] === 'body' && d.loc.includes(field)),
        name,
      ).toBe(true)
    }
  })

  it('RFC 5321 bounds: a 64-octet local part and a 254-octet address, no more', async () => {
    const { app } = await buildTestApp()
    const password = strongPassword()
    // A domain of exactly n octets, in labels of at most 63 (RFC 1035).
    const domain = (n: number) => {
      let d = 'com'
      while (n - d.length > 61) d = `${'d'.repeat(60)}.${d}`
      return `${'e'.repeat(n - d.length - 1)}.${d}`
    }
    const local64 = 'a'.repeat(64)
    const cases: [string, string, number][] = [
      ['local part of 64', `${local64}@${domain(20)}`, 201],
      ['local part of 65', `a${local64}@${domain(20)}`, 422],
      ['address of 254', `${local64}@${domain(189)}`, 201],
      ['address of 255', `${local64}@${domain(190)}`, 422],
    ]
    for (const [name, email, status] of cases) {
      const res = await app.inject(signup({ email, password }))
      expect(res.statusCode, `${name} (${email.length})`).toBe(status)
      if (status === 422) expect(res.json().detail[0].loc).toEqual(['body', 'email'])
    }
    // Everywhere an email comes in: a profile change refuses it as well.
    const user = await createUser(app)
    const { headers } = await loginAs(app, user)
    const patch = await app.inject({
      method: 'PATCH',
      url: '/api/v1/users/me',
      headers,
      payload: { email: `${'b'.repeat(65)}@example.com`, current_password: user.password },
    })
    expect(patch.statusCode).toBe(422)
  })

  it('accepts exactly 8 and exactly 1024 characters', async () => {
    const { app } = await buildTestApp()
    for (const password of ['Abcdef1!', `${'x'.repeat(1000)}${strongPassword()}`.slice(0, 1024)]) {
      const res = await app.inject(signup({ email: randomEmail(), password }))
      expect(res.statusCode, String(password.length)).toBe(201)
    }
  })

  it('422 for a missing body and a non-object body', async () => {
    const { app } = await buildTestApp()
    for (const payload of ['[]', '"x"', '42', 'null']) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/signup',
        payload,
        headers: { 'content-type': 'application/json' },
      })
      expect(res.statusCode, payload).toBe(422)
      expectValidationBody(res.body)
    }
  })

  it('ignores unknown fields, including privilege fields', async () => {
    const { app } = await buildTestApp()
    const res = await app.inject(
      signup({
        email: randomEmail(),
        password: strongPassword(),
        is_superuser: true,
        is_active: false,
        id: '00000000-0000-4000-8000-000000000000',
        hashed_password: 'x',
        nonsense: { deep: 1 },
      }),
    )
    expect(res.statusCode).toBe(201)
    expect(res.json()).toMatchObject({ is_superuser: false, is_active: true })
    expect(res.json().id).not.toBe('00000000-0000-4000-8000-000000000000')
  })
})
