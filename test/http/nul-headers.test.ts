import { describe, expect, it } from 'vitest'
import { buildTestApp } from '../helpers/app.js'
import { createUser } from '../helpers/factories.js'

// Issue 14: on PostgreSQL a NUL in the Basic header's client_id reached the
// sessions table and failed as a 500. A decoded header value is refused like a
// body field: 422, before anything reaches the database (run on both dialects).
const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString('base64')}`

describe('NUL in decoded header values', () => {
  it('a Basic client_id or secret holding NUL (raw or %00) is a 422 on the token and login routes', async () => {
    const { app } = await buildTestApp()
    const user = await createUser(app)
    const form = new URLSearchParams({ username: user.email, password: user.password }).toString()
    for (const credentials of ['a\u0000b:', 'a%00b:x', 'client:se\u0000cret', '%00']) {
      for (const request of [
        {
          url: '/api/v1/auth/token',
          payload: form,
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        },
        { url: '/api/v1/auth/login', payload: { email: user.email, password: user.password } },
      ]) {
        const res = await app.inject({
          method: 'POST',
          ...request,
          headers: { ...request.headers, authorization: basic(credentials) },
        })
        expect(res.statusCode, `${request.url} ${JSON.stringify(credentials)}`).toBe(422)
        expect(res.json().detail[0]).toEqual({
          loc: ['header', 'authorization'],
          msg: 'String should not contain null characters',
          type: 'value_error',
        })
      }
    }
    // A Basic header without the NUL, naming a registered client, signs in.
    const ok = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/token',
      payload: form,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: basic('keygate:x'),
      },
    })
    expect(ok.statusCode).toBe(200)
  })
})
