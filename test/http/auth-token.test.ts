import { decodeJwt } from 'jose'
import { describe, expect, it } from 'vitest'
import { bit } from '../../src/repos/support/row.js'
import { buildTestApp } from '../helpers/app.js'
import { createUser, form } from '../helpers/factories.js'

const INVALID_GRANT = {
  error: 'invalid_grant',
  error_description: 'Invalid credentials',
  detail: 'Invalid credentials',
}

const token = (fields: Record<string, string>, headers: Record<string, string> = {}) => {
  const f = form(fields)
  return {
    method: 'POST' as const,
    url: '/api/v1/auth/token',
    payload: f.payload,
    headers: { ...f.headers, ...headers },
  }
}

describe('POST /api/v1/auth/token', () => {
  it('password grant by email or by username, grant_type optional, no-store', async () => {
    const { app } = await buildTestApp()
    const user = await createUser(app, { username: 'dora' })
    const attempts: Record<string, string>[] = [
      { username: user.email, password: user.password },
      { grant_type: 'password', username: 'dora', password: user.password },
      { grant_type: 'password', username: user.email.toUpperCase(), password: user.password },
    ]
    for (const fields of attempts) {
      const res = await app.inject(token(fields))
      expect(res.statusCode, res.body).toBe(200)
      const body = res.json()
      expect(Object.keys(body).sort()).toEqual(
        ['access_token', 'expires_in', 'refresh_token', 'scope', 'token_type'].sort(),
      )
      expect(body.scope).toBe('openid profile email offline_access posts:write account')
      expect(body.token_type).toBe('bearer')
      expect(body.expires_in).toBe(1800)
      expect(typeof body.refresh_token).toBe('string')
      expect(res.headers['cache-control']).toBe('no-store')
      expect(res.headers.pragma).toBe('no-cache')
      expect(decodeJwt(body.access_token).sub).toBe(user.id)
    }
  })

  it('bad credentials: 400 invalid_grant, identical for unknown account and wrong password', async () => {
    const { app } = await buildTestApp()
    const user = await createUser(app)
    const unknown = await app.inject(
      token({ username: 'nobody@example.com', password: 'x1234567' }),
    )
    const wrong = await app.inject(token({ username: user.email, password: 'wrong-password' }))
    for (const res of [unknown, wrong]) {
      expect(res.statusCode).toBe(400)
      expect(res.json()).toEqual(INVALID_GRANT)
      expect(res.headers['www-authenticate']).toBeUndefined()
      expect(res.headers['cache-control']).toBe('no-store')
    }
    const names = (h: Record<string, unknown>) =>
      Object.keys(h)
        .filter((k) => !['x-request-id', 'date', 'content-length'].includes(k))
        .sort()
    expect(names(unknown.headers)).toEqual(names(wrong.headers))
    expect(unknown.body).toBe(wrong.body)
  })

  it('400 unsupported_grant_type and invalid_scope', async () => {
    const { app } = await buildTestApp()
    const user = await createUser(app)
    for (const grant_type of ['implicit', 'PASSWORD', 'x']) {
      const res = await app.inject(
        token({ grant_type, username: user.email, password: user.password }),
      )
      expect(res.statusCode, grant_type).toBe(400)
      expect(res.json().error).toBe('unsupported_grant_type')
      expect(res.headers['www-authenticate']).toBeUndefined()
    }
    // Grants Keygate knows, but the built-in client is not registered for.
    for (const grant_type of ['client_credentials', 'authorization_code']) {
      const res = await app.inject(token({ grant_type }))
      expect(res.statusCode, grant_type).toBe(400)
      expect(res.json().error).toBe('unauthorized_client')
    }
    const scoped = await app.inject(
      token({ username: user.email, password: user.password, scope: 'admin' }),
    )
    expect(scoped.statusCode).toBe(400)
    expect(scoped.json().error).toBe('invalid_scope')
    expect(scoped.json().detail).toBeTypeOf('string')
  })

  it('422 for missing fields; empty values count as missing', async () => {
    const { app } = await buildTestApp()
    const cases: [Record<string, string>, string[]][] = [
      [{}, ['username', 'password']],
      [{ username: 'someone@example.com' }, ['password']],
      [{ password: 'x-secret-x' }, ['username']],
      [{ username: '', password: 'x-secret-x' }, ['username']],
      [{ username: 'someone@example.com', password: '' }, ['password']],
      [{ grant_type: 'password', username: '', password: '' }, ['username', 'password']],
    ]
    for (const [fields, missing] of cases) {
      const res = await app.inject(token(fields))
      expect(res.statusCode, JSON.stringify(fields)).toBe(422)
      const detail = res.json().detail as { loc: string[]; type: string }[]
      expect(detail.map((d) => d.loc.at(-1)).sort()).toEqual(missing.sort())
      expect(detail.every((d) => d.type === 'missing' && d.loc[0] === 'body')).toBe(true)
      expect(res.body).not.toContain('x-secret-x')
      expect(res.body).not.toContain('someone@example.com')
    }
  })

  it("Swagger UI's empty Basic client (Og==) works and never challenges with Basic", async () => {
    const { app } = await buildTestApp()
    const user = await createUser(app)
    const basic = { authorization: 'Basic Og==' }
    const ok = await app.inject(
      token({ grant_type: 'password', username: user.email, password: user.password }, basic),
    )
    expect(ok.statusCode, ok.body).toBe(200)
    expect(decodeJwt(ok.json().access_token).client_id).toBe('keygate')
    const bad = await app.inject(token({ username: user.email, password: 'nope-nope' }, basic))
    expect(bad.statusCode).toBe(400)
    expect(bad.json()).toEqual(INVALID_GRANT)
    expect(bad.headers['www-authenticate']).toBeUndefined()
    // Unreadable Basic headers name no client: the built-in one, never a Basic challenge.
    // (A readable one naming an unknown client is invalid_client: clients-token-auth.test.ts.)
    for (const authorization of ['Basic !!!', 'Basic', 'Basic Og==x']) {
      const res = await app.inject(
        token({ username: user.email, password: user.password }, { authorization }),
      )
      expect(String(res.headers['www-authenticate'] ?? '')).not.toMatch(/basic/i)
      expect(res.statusCode, authorization).toBeLessThan(500)
    }
  })

  it('client_id from the form or a Basic header lands in the token, default keygate', async () => {
    const { app } = await buildTestApp()
    const user = await createUser(app)
    const creds = { username: user.email, password: user.password }
    const claim = async (fields: Record<string, string>, headers?: Record<string, string>) => {
      const res = await app.inject(token({ ...creds, ...fields }, headers))
      expect(res.statusCode, res.body).toBe(200)
      return decodeJwt(res.json().access_token).client_id
    }
    expect(await claim({})).toBe('keygate')
    // The built-in client is public: a secret it sends is ignored, as in Part I.
    expect(await claim({ client_id: 'keygate', client_secret: 'ignored' })).toBe('keygate')
    const basic = Buffer.from('keygate:whatever').toString('base64')
    expect(await claim({}, { authorization: `Basic ${basic}` })).toBe('keygate')
    const onlyId = Buffer.from('keygate:').toString('base64')
    expect(await claim({}, { authorization: `Basic ${onlyId}` })).toBe('keygate')
  })

  it('inactive user: 403 Inactive user with the right password, invalid_grant otherwise', async () => {
    const { app, database } = await buildTestApp()
    const user = await createUser(app)
    await database.db
      .updateTable('users')
      .set({ is_active: bit(false) })
      .where('id', '=', user.id)
      .execute()
    const right = await app.inject(token({ username: user.email, password: user.password }))
    expect(right.statusCode).toBe(403)
    expect(right.json()).toEqual({
      error: 'invalid_grant',
      error_description: 'Inactive user',
      detail: 'Inactive user',
    })
    expect(right.headers['www-authenticate']).toBeUndefined()
    const wrong = await app.inject(token({ username: user.email, password: 'wrong-one!' }))
    expect(wrong.statusCode).toBe(400)
    expect(wrong.json()).toEqual(INVALID_GRANT)
    // The OAuth code is the token endpoint's: the JSON login answers as the tutorials do.
    const login = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: user.email, password: user.password },
    })
    expect(login.statusCode).toBe(403)
    expect(login.json()).toEqual({ detail: 'Inactive user' })
  })
})
