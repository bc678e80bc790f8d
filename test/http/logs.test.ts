import { describe, expect, it } from 'vitest'
import { buildTestApp } from '../helpers/app.js'
import { form, randomEmail, strongPassword } from '../helpers/factories.js'
import { must } from '../helpers/must.js'

function captureLogs() {
  const lines: string[] = []
  return { lines, logStream: { write: (line: string) => void lines.push(line) } }
}

describe('logs', () => {
  it('log every request with its id and never a password, token or hash', async () => {
    const { lines, logStream } = captureLogs()
    const { app, database } = await buildTestApp({ logLevel: 'trace' }, { logStream })
    const email = randomEmail()
    const password = strongPassword()
    const wrongPassword = strongPassword()
    const at = (id: string) => ({ 'x-request-id': id })

    const signup = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/signup',
      headers: at('req-signup'),
      payload: { email, password },
    })
    expect(signup.statusCode).toBe(201)
    const token = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/token?password=in-query-too',
      ...form({ username: email, password }),
      headers: { ...form({}).headers, ...at('req-token') },
    })
    expect(token.statusCode).toBe(200)
    const { access_token, refresh_token } = token.json()
    const login = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: at('req-login'),
      payload: { email, password },
    })
    expect(login.statusCode).toBe(200)
    const wrong = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: at('req-wrong'),
      payload: { email, password: wrongPassword },
    })
    expect(wrong.statusCode).toBe(401)
    const invalid = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/signup',
      headers: at('req-invalid'),
      payload: { email: 'not-an-email', password },
    })
    expect(invalid.statusCode).toBe(422)
    const me = await app.inject({
      method: 'GET',
      url: '/api/v1/users/me',
      headers: { authorization: `Bearer ${access_token}`, ...at('req-me') },
    })
    expect(me.statusCode).toBe(200)

    const { hashed_password } = await database.db
      .selectFrom('users')
      .select('hashed_password')
      .executeTakeFirstOrThrow()

    // A 500 is logged with what identifies the request, not with its body.
    await database.db.destroy()
    const broken = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: at('req-broken'),
      payload: { email, password },
    })
    expect(broken.statusCode).toBe(500)

    const log = lines.join('')
    const secrets = {
      password,
      wrongPassword,
      access_token,
      'access token signature': access_token.split('.')[2],
      refresh_token,
      hashed_password,
      'hash digest': must(hashed_password.split('$').at(-1)),
      'query password': 'in-query-too',
    }
    for (const [name, secret] of Object.entries(secrets)) {
      expect(log.includes(secret), `${name} appears in the logs`).toBe(false)
    }

    const entries = lines.map((l) => JSON.parse(l))
    for (const id of [
      'req-signup',
      'req-token',
      'req-login',
      'req-wrong',
      'req-invalid',
      'req-me',
    ]) {
      const mine = entries.filter((e) => e.reqId === id)
      expect(
        mine.map((e) => e.msg),
        id,
      ).toEqual(expect.arrayContaining(['incoming request', 'request completed']))
    }
    const failure = entries.find((e) => e.reqId === 'req-broken' && e.level >= 50)
    expect(failure, 'the 500 is logged at error level').toBeDefined()
    expect(failure.url).toBe('/api/v1/auth/login')
    expect(JSON.stringify(failure)).not.toContain(email)
    expect(entries.every((e) => e.reqId === undefined || typeof e.reqId === 'string')).toBe(true)
  })

  it('generates a request id when none is given and logs it', async () => {
    const { lines, logStream } = captureLogs()
    const { app } = await buildTestApp({ logLevel: 'info' }, { logStream })
    const res = await app.inject({ method: 'GET', url: '/healthz' })
    const id = res.headers['x-request-id']
    expect(id).toMatch(/^[0-9a-f-]{36}$/)
    const entries = lines.map((l) => JSON.parse(l)).filter((e) => e.reqId === id)
    // One line per request at info; 'incoming request' is debug (see request-log.test.ts).
    expect(entries.map((e) => e.msg)).toEqual(['request completed'])
  })
})
