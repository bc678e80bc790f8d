import { describe, expect, it, onTestFinished } from 'vitest'
import { buildApp } from '../../src/app.js'
import { buildTestApp } from '../helpers/app.js'
import { createUser, loginAs } from '../helpers/factories.js'
import { must } from '../helpers/must.js'

type App = Awaited<ReturnType<typeof buildTestApp>>['app']

const bearer = (access: string) => ({ authorization: `Bearer ${access}` })
const me = (app: App, access: string) =>
  app.inject({ method: 'GET', url: '/api/v1/users/me', headers: bearer(access) })
const refresh = (app: App, token: string) =>
  app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: token } })

describe('logout', () => {
  it('the same access token answers 401 on the very next request', async () => {
    const { app } = await buildTestApp()
    const user = await createUser(app)
    const { tokens } = await loginAs(app, user)
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      headers: bearer(tokens.access_token),
    })
    expect(res.statusCode).toBe(204)
    expect(res.body).toBe('')
    const after = await me(app, tokens.access_token)
    expect(after.statusCode).toBe(401)
    expect(after.json()).toEqual({ detail: 'Could not validate credentials' })
    expect(after.headers['www-authenticate']).toBe('Bearer realm="keygate", error="invalid_token"')
    expect((await refresh(app, tokens.refresh_token)).statusCode).toBe(401)
  })

  it('ends only this session by default', async () => {
    const { app } = await buildTestApp()
    const user = await createUser(app)
    const a = await loginAs(app, user)
    const b = await loginAs(app, user)
    await app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: a.headers })
    expect((await me(app, a.tokens.access_token)).statusCode).toBe(401)
    expect((await me(app, b.tokens.access_token)).statusCode).toBe(200)
  })

  it('{"all": true} kills every session of the user, and only theirs', async () => {
    const { app } = await buildTestApp()
    const user = await createUser(app)
    const other = await loginAs(app, await createUser(app))
    const sessions = [await loginAs(app, user), await loginAs(app, user), await loginAs(app, user)]
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      headers: must(sessions[0]).headers,
      payload: { all: true },
    })
    expect(res.statusCode).toBe(204)
    for (const s of sessions) {
      expect((await me(app, s.tokens.access_token)).statusCode).toBe(401)
      expect((await refresh(app, s.tokens.refresh_token)).statusCode).toBe(401)
    }
    expect((await me(app, other.tokens.access_token)).statusCode).toBe(200)
  })

  it('accepts a JSON content type with an empty body', async () => {
    const { app } = await buildTestApp()
    const { headers, tokens } = await loginAs(app, await createUser(app))
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      headers: { ...headers, 'content-type': 'application/json' },
      payload: '',
    })
    expect(res.statusCode).toBe(204)
    expect((await me(app, tokens.access_token)).statusCode).toBe(401)
  })

  it('rejects a non-boolean "all" and keeps the session', async () => {
    const { app } = await buildTestApp()
    const { headers, tokens } = await loginAs(app, await createUser(app))
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      headers,
      payload: { all: 'yes' },
    })
    expect(res.statusCode).toBe(422)
    expect((await me(app, tokens.access_token)).statusCode).toBe(200)
  })

  it('needs a bearer token', async () => {
    const { app } = await buildTestApp()
    const res = await app.inject({ method: 'POST', url: '/api/v1/auth/logout' })
    expect(res.statusCode).toBe(401)
    expect(res.json()).toEqual({ detail: 'Not authenticated' })
  })

  it('reaches another instance sharing the database at once', async () => {
    const { app, database, clock, config } = await buildTestApp()
    const other = await buildApp(config, { database, clock })
    onTestFinished(() => other.close())
    const { headers, tokens } = await loginAs(app, await createUser(app))
    expect((await me(other, tokens.access_token)).statusCode).toBe(200)
    await app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers })
    expect((await me(other, tokens.access_token)).statusCode).toBe(401)
  })
})
