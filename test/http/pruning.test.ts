import { describe, expect, it, onTestFinished } from 'vitest'
import { createDeps } from '../../src/deps.js'
import { buildTestApp } from '../helpers/app.js'
import { createUser, loginAs, type Tokens } from '../helpers/factories.js'

const DAY = 86_400

describe('pruning', () => {
  it('deletes revoked and expired sessions and expired refresh tokens, keeps what reuse detection needs', async () => {
    const { app, database, clock, config } = await buildTestApp({ refreshTokenExpireDays: 2 })
    const deps = await createDeps(config, { database, clock })
    onTestFinished(() => deps.close())
    const { services } = deps
    const count = async () => ({
      sessions: (await database.db.selectFrom('sessions').select('id').execute()).length,
      tokens: (await database.db.selectFrom('refresh_tokens').select('token_hash').execute())
        .length,
    })
    const refresh = async (t: Tokens) => {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/refresh',
        payload: { refresh_token: t.refresh_token },
      })
      return { status: res.statusCode, tokens: res.json() as Tokens }
    }

    const user = await createUser(app)
    const active = await loginAs(app, user) // refreshed along the way: stays
    const loggedOut = await loginAs(app, user) // revoked: goes at once
    const idle = await loginAs(app, user) // never refreshed: expires on day 2
    await app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: loggedOut.headers })
    const spent = active.tokens
    const current = (await refresh(spent)).tokens
    expect(await count()).toEqual({ sessions: 3, tokens: 4 })

    expect(await services.sessions.prune()).toEqual({ sessions: 1, refreshTokens: 0 })
    expect(await count()).toEqual({ sessions: 2, tokens: 3 })
    expect((await refresh(idle.tokens)).status).toBe(200) // live sessions are untouched

    clock.advanceSeconds(DAY)
    const later = (await refresh(current)).tokens
    clock.advanceSeconds(DAY + 60)
    // Day 2: the idle session (with its two tokens) and the two day-0 tokens of the active one
    // have expired; the active session and its day-1 token remain.
    expect(await services.sessions.prune()).toEqual({ sessions: 1, refreshTokens: 2 })
    expect(await count()).toEqual({ sessions: 1, tokens: 1 })
    expect((await refresh(later)).status).toBe(200)
  })

  it('keeps a spent token while its session lives, so a late replay is still caught', async () => {
    const { app, database, clock, config } = await buildTestApp()
    const deps = await createDeps(config, { database, clock })
    onTestFinished(() => deps.close())
    const { services } = deps
    const { tokens } = await loginAs(app, await createUser(app))
    const refresh = (token: string) =>
      app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: token } })
    const next = (await refresh(tokens.refresh_token)).json() as Tokens
    clock.advanceSeconds(DAY)
    await services.sessions.prune()
    expect((await refresh(tokens.refresh_token)).statusCode).toBe(401)
    // The replay revoked the family: the legitimate holder is logged out too.
    expect((await refresh(next.refresh_token)).statusCode).toBe(401)
    expect(await services.sessions.prune()).toEqual({ sessions: 1, refreshTokens: 0 })
    expect(await database.db.selectFrom('refresh_tokens').selectAll().execute()).toEqual([])
  })
})
