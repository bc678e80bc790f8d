import { describe, expect, it, onTestFinished } from 'vitest'
import { createDeps } from '../../src/deps.js'
import { buildTestApp } from '../helpers/app.js'
import { createUser, loginAs, type Tokens } from '../helpers/factories.js'

// RFC 9700 §4.14.2: a session has one refresh chain. Replays of a spent token
// inside REFRESH_REUSE_GRACE_SECONDS must not fork it into parallel chains
// that reuse detection cannot see (issue 14, medium 1).

type App = Awaited<ReturnType<typeof buildTestApp>>['app']
type Db = Awaited<ReturnType<typeof buildTestApp>>['database']['db']

const refresh = (app: App, token: string) =>
  app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: token } })

const me = (app: App, access: string) =>
  app.inject({
    method: 'GET',
    url: '/api/v1/users/me',
    headers: { authorization: `Bearer ${access}` },
  })

/** Refresh tokens of the database that could still be used (not spent, not expired). */
async function liveRefreshTokens(db: Db): Promise<number> {
  const rows = await db.selectFrom('refresh_tokens').select('used_at').execute()
  return rows.filter((r) => r.used_at === null).length
}

async function loggedIn() {
  const t = await buildTestApp()
  const user = await createUser(t.app)
  const { tokens } = await loginAs(t.app, user)
  return { ...t, user, tokens }
}

describe('refresh grace window without forks', () => {
  it('20 parallel replays leave one live chain: every answer carries the same token', async () => {
    const { app, tokens, database } = await loggedIn()
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => refresh(app, tokens.refresh_token)),
    )
    for (const a of answers) expect(a.statusCode, a.body).toBe(200)
    const leaves = new Set(answers.map((a) => (a.json() as Tokens).refresh_token))
    expect(leaves.size).toBe(1)
    expect(await liveRefreshTokens(database.db)).toBe(1)
  })

  it('10 sequential replays in the window add no chain', async () => {
    const { app, tokens, database, clock } = await loggedIn()
    const first = (await refresh(app, tokens.refresh_token)).json() as Tokens
    for (let i = 0; i < 10; i++) {
      clock.advanceSeconds(0.9)
      const again = await refresh(app, tokens.refresh_token)
      expect(again.statusCode).toBe(200)
      expect((again.json() as Tokens).refresh_token).toBe(first.refresh_token)
    }
    expect(await liveRefreshTokens(database.db)).toBe(1)
  })

  it('a replay of an older token while the chain moved on answers with the live end', async () => {
    const { app, tokens, database } = await loggedIn()
    const b = (await refresh(app, tokens.refresh_token)).json() as Tokens
    const c = (await refresh(app, b.refresh_token)).json() as Tokens
    const replay = (await refresh(app, tokens.refresh_token)).json() as Tokens
    expect(replay.refresh_token).toBe(c.refresh_token)
    expect(await liveRefreshTokens(database.db)).toBe(1)
  })

  it('a replay after the window revokes the session: every token of every replay dies', async () => {
    const { app, tokens, clock, config } = await loggedIn()
    const answers: Tokens[] = []
    for (let i = 0; i < 5; i++) answers.push((await refresh(app, tokens.refresh_token)).json())
    const leaf = (await refresh(app, answers[0]!.refresh_token)).json() as Tokens

    clock.advanceSeconds(config.refreshReuseGraceSeconds + 1)
    expect((await refresh(app, tokens.refresh_token)).statusCode).toBe(401)
    for (const t of [...answers, leaf]) {
      expect((await me(app, t.access_token)).statusCode).toBe(401)
      expect((await refresh(app, t.refresh_token)).statusCode).toBe(401)
    }
  })

  it('the sealed successor never holds the token in clear, and pruning forgets it', async () => {
    const { app, tokens, database, clock, config } = await loggedIn()
    const next = (await refresh(app, tokens.refresh_token)).json() as Tokens
    const rows = await database.db.selectFrom('refresh_tokens').selectAll().execute()
    expect(rows.some((r) => r.successor !== null)).toBe(true)
    expect(JSON.stringify(rows)).not.toContain(next.refresh_token)

    // Once the window is over, pruning forgets the successor; a replay is then plain reuse.
    const deps = await createDeps(config, { database, clock })
    onTestFinished(() => deps.close())
    clock.advanceSeconds(config.refreshReuseGraceSeconds + 1)
    await deps.services.sessions.prune()
    const after = await database.db.selectFrom('refresh_tokens').select('successor').execute()
    expect(after.every((r) => r.successor === null)).toBe(true)
  })
})

describe('a password change cuts off every other holder', () => {
  it('a thief sharing the caller’s session through a grace replay loses it', async () => {
    const { app, user, tokens } = await loggedIn()
    const other = await loginAs(app, user)
    // Owner and thief both hold the session's leaf (thief replayed in the window).
    const owner = (await refresh(app, tokens.refresh_token)).json() as Tokens
    const thief = (await refresh(app, tokens.refresh_token)).json() as Tokens
    expect(thief.refresh_token).toBe(owner.refresh_token)

    const change = await app.inject({
      method: 'POST',
      url: '/api/v1/users/me/password',
      headers: { authorization: `Bearer ${owner.access_token}` },
      payload: { current_password: user.password, new_password: 'a-new-password-42' },
    })
    expect(change.statusCode, change.body).toBe(204)

    // The caller's own access token keeps working until it expires ...
    expect((await me(app, owner.access_token)).statusCode).toBe(200)
    // ... and every other token of that session, and of every other session, is dead.
    expect((await me(app, thief.access_token)).statusCode).toBe(401)
    expect((await me(app, tokens.access_token)).statusCode).toBe(401)
    expect((await refresh(app, thief.refresh_token)).statusCode).toBe(401)
    expect((await refresh(app, tokens.refresh_token)).statusCode).toBe(401)
    expect((await me(app, other.tokens.access_token)).statusCode).toBe(401)
    expect((await refresh(app, other.tokens.refresh_token)).statusCode).toBe(401)
    // The new password signs in.
    await loginAs(app, { email: user.email, password: 'a-new-password-42' })
  })

  it('the pinned session ends when the caller’s access token does', async () => {
    const { app, user, tokens, clock, config } = await loggedIn()
    const change = await app.inject({
      method: 'POST',
      url: '/api/v1/users/me/password',
      headers: { authorization: `Bearer ${tokens.access_token}` },
      payload: { current_password: user.password, new_password: 'a-new-password-42' },
    })
    expect(change.statusCode).toBe(204)
    const fresh = await loginAs(app, { email: user.email, password: 'a-new-password-42' })
    clock.advanceSeconds(config.accessTokenExpireMinutes * 60 + 1)
    const list = await app.inject({
      method: 'GET',
      url: '/api/v1/users/me/sessions',
      headers: fresh.headers,
    })
    // Only the fresh sign-in's session is left (its access token expired too: refresh it first).
    expect(list.statusCode).toBe(401)
    const renewed = (await refresh(app, fresh.tokens.refresh_token)).json() as Tokens
    const again = await app.inject({
      method: 'GET',
      url: '/api/v1/users/me/sessions',
      headers: { authorization: `Bearer ${renewed.access_token}` },
    })
    expect(again.json()).toHaveLength(1)
  })
})
