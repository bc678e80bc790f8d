import { describe, expect, it } from 'vitest'
import { meStatus } from '../helpers/accounts.js'
import { buildTestApp } from '../helpers/app.js'
import { createPost, createUser, loginAs, strongPassword } from '../helpers/factories.js'

const ME = '/api/v1/users/me'

describe('PATCH /users/me', () => {
  it('changes the username, and null removes it', async () => {
    const { app } = await buildTestApp()
    const user = await createUser(app, { username: 'alice' })
    const { headers } = await loginAs(app, user)
    const res = await app.inject({
      method: 'PATCH',
      url: ME,
      headers,
      payload: { username: 'Alice.B-2' },
    })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toMatchObject({ id: user.id, username: 'Alice.B-2', email: user.email })
    expect(
      (await loginAs(app, { email: 'alice.b-2', password: user.password })).tokens,
    ).toBeTruthy()
    const cleared = await app.inject({
      method: 'PATCH',
      url: ME,
      headers,
      payload: { username: null },
    })
    expect(cleared.json().username).toBeNull()
  })

  it('refuses a username that is taken, compared case-insensitively', async () => {
    const { app } = await buildTestApp()
    await createUser(app, { username: 'bob' })
    const user = await createUser(app)
    const { headers } = await loginAs(app, user)
    const res = await app.inject({
      method: 'PATCH',
      url: ME,
      headers,
      payload: { username: 'BOB' },
    })
    expect(res.statusCode).toBe(409)
    expect(res.json()).toEqual({ detail: 'Username already taken' })
  })

  it.each([
    ['ab', 'string_too_short'],
    ['a'.repeat(33), 'string_too_long'],
    ['has@sign', 'string_pattern_mismatch'],
    ['with space', 'string_pattern_mismatch'],
  ])('refuses the username %j with a 422', async (username, type) => {
    const { app } = await buildTestApp()
    const user = await createUser(app)
    const { headers } = await loginAs(app, user)
    const res = await app.inject({ method: 'PATCH', url: ME, headers, payload: { username } })
    expect(res.statusCode).toBe(422)
    expect(res.json().detail[0]).toMatchObject({ loc: ['body', 'username'], type })
    expect(res.body).not.toContain(username)
  })

  it('needs the current password to change the email', async () => {
    const { app } = await buildTestApp()
    const user = await createUser(app)
    const { headers } = await loginAs(app, user)
    const email = 'new-address@example.com'
    const missing = await app.inject({ method: 'PATCH', url: ME, headers, payload: { email } })
    expect(missing.statusCode).toBe(400)
    expect(missing.json()).toEqual({ detail: 'Current password required' })
    const wrong = await app.inject({
      method: 'PATCH',
      url: ME,
      headers,
      payload: { email, current_password: 'not-the-password' },
    })
    expect(wrong.statusCode).toBe(400)
    expect(wrong.json()).toEqual({ detail: 'Incorrect password' })
    const ok = await app.inject({
      method: 'PATCH',
      url: ME,
      headers,
      payload: { email, current_password: user.password },
    })
    expect(ok.statusCode, ok.body).toBe(200)
    expect(ok.json().email).toBe(email)
    await loginAs(app, { email, password: user.password })
  })

  it('accepts the unchanged email without a password, and changes nothing', async () => {
    const { app } = await buildTestApp()
    const user = await createUser(app)
    const { headers } = await loginAs(app, user)
    const res = await app.inject({
      method: 'PATCH',
      url: ME,
      headers,
      payload: { email: user.email },
    })
    expect(res.statusCode).toBe(200)
    expect(res.json().email).toBe(user.email)
  })

  it('refuses an email that is taken, compared case-insensitively', async () => {
    const { app } = await buildTestApp()
    const other = await createUser(app)
    const user = await createUser(app)
    const { headers } = await loginAs(app, user)
    const res = await app.inject({
      method: 'PATCH',
      url: ME,
      headers,
      payload: { email: other.email.toUpperCase(), current_password: user.password },
    })
    expect(res.statusCode).toBe(409)
    expect(res.json()).toEqual({ detail: 'Email already registered' })
  })

  it('answers 401 without a token', async () => {
    const { app } = await buildTestApp()
    const res = await app.inject({ method: 'PATCH', url: ME, payload: { username: 'whoever' } })
    expect(res.statusCode).toBe(401)
  })
})

describe('POST /users/me/password', () => {
  const url = `${ME}/password`

  it('keeps the calling session, signs out the others, and swaps the password', async () => {
    const { app } = await buildTestApp()
    const user = await createUser(app)
    const mine = await loginAs(app, user)
    const other = await loginAs(app, user)
    const next = strongPassword()
    const res = await app.inject({
      method: 'POST',
      url,
      headers: mine.headers,
      payload: { current_password: user.password, new_password: next },
    })
    expect(res.statusCode, res.body).toBe(204)
    expect(await meStatus(app, mine.headers)).toBe(200)
    expect(await meStatus(app, other.headers)).toBe(401)
    const old = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: user.email, password: user.password },
    })
    expect(old.statusCode).toBe(401)
    await loginAs(app, { email: user.email, password: next })
  })

  it('answers 400 for a wrong current password and changes nothing', async () => {
    const { app } = await buildTestApp()
    const user = await createUser(app)
    const mine = await loginAs(app, user)
    const other = await loginAs(app, user)
    const res = await app.inject({
      method: 'POST',
      url,
      headers: mine.headers,
      payload: { current_password: 'wrong-password', new_password: strongPassword() },
    })
    expect(res.statusCode).toBe(400)
    expect(res.json()).toEqual({ detail: 'Incorrect password' })
    expect(await meStatus(app, other.headers)).toBe(200)
    await loginAs(app, user)
  })

  it('answers 422 for a new password that is too short or too long', async () => {
    const { app } = await buildTestApp()
    const user = await createUser(app)
    const { headers } = await loginAs(app, user)
    for (const [pw, type] of [
      ['Sh0rt!', 'string_too_short'],
      ['x'.repeat(1025), 'string_too_long'],
    ]) {
      const res = await app.inject({
        method: 'POST',
        url,
        headers,
        payload: { current_password: user.password, new_password: pw },
      })
      expect(res.statusCode).toBe(422)
      expect(res.json().detail[0]).toMatchObject({ loc: ['body', 'new_password'], type })
    }
  })
})

describe('DELETE /users/me', () => {
  it('needs the right password', async () => {
    const { app } = await buildTestApp()
    const user = await createUser(app)
    const { headers } = await loginAs(app, user)
    const res = await app.inject({
      method: 'DELETE',
      url: ME,
      headers,
      payload: { password: 'nope-nope' },
    })
    expect(res.statusCode).toBe(400)
    expect(res.json()).toEqual({ detail: 'Incorrect password' })
    expect(await meStatus(app, headers)).toBe(200)
  })

  it('answers 422 without a password', async () => {
    const { app } = await buildTestApp()
    const user = await createUser(app)
    const { headers } = await loginAs(app, user)
    const res = await app.inject({ method: 'DELETE', url: ME, headers, payload: {} })
    expect(res.statusCode).toBe(422)
  })

  it('removes the user, their sessions and their posts', async () => {
    const { app, database } = await buildTestApp()
    const user = await createUser(app, { username: 'leaving' })
    const { headers } = await loginAs(app, user)
    const post = await createPost(app, headers)
    const res = await app.inject({
      method: 'DELETE',
      url: ME,
      headers,
      payload: { password: user.password },
    })
    expect(res.statusCode, res.body).toBe(204)
    expect(await meStatus(app, headers)).toBe(401)
    const gone = await app.inject({ method: 'GET', url: `/api/v1/posts/${post.id}` })
    expect(gone.statusCode).toBe(404)
    const db = database.db
    expect(
      await db.selectFrom('sessions').where('user_id', '=', user.id).selectAll().execute(),
    ).toEqual([])
    expect(await db.selectFrom('refresh_tokens').selectAll().execute()).toEqual([])
    // The email and username are free again.
    await createUser(app, { email: user.email, username: 'leaving' })
  })
})
