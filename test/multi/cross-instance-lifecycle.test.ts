import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { strongPassword } from '../helpers/factories.js'
import { http } from '../helpers/server-process.js'
import { multiSkipReason, useServerPair } from './pair.js'

// Logout, refresh rotation and the login throttle must hold across instances:
// their state lives in PostgreSQL and Redis, never in one process's memory (SPEC §1).

const INVALID_TOKEN = 'Bearer realm="keygate", error="invalid_token"'

async function signupAndLogin(base: string, on: string) {
  const user = {
    email: `life-${randomBytes(5).toString('hex')}@example.com`,
    password: strongPassword(),
  }
  expect((await http(base, 'POST', '/api/v1/auth/signup', { json: user })).status).toBe(201)
  const login = await http(on, 'POST', '/api/v1/auth/login', { json: user })
  expect(login.status).toBe(200)
  return { user, tokens: login.body as { access_token: string; refresh_token: string } }
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

describe.skipIf(multiSkipReason !== undefined)(
  `session lifecycle across two instances${multiSkipReason ? ` (skipped: ${multiSkipReason})` : ''}`,
  () => {
    const pair = useServerPair({
      REFRESH_REUSE_GRACE_SECONDS: '0',
      // Throttling stays on; only the per-client request budget is lifted so that
      // other suites sharing this Redis and 127.0.0.1 cannot trip it.
      RATE_LIMIT_CLIENT_PER_MINUTE: '1000000',
    })

    it('refuses on B, at once, a session logged out on A', async () => {
      const { tokens } = await signupAndLogin(pair.a.url, pair.a.url)
      const me = () =>
        http(pair.b.url, 'GET', '/api/v1/users/me', { headers: bearer(tokens.access_token) })
      expect((await me()).status).toBe(200)

      const logout = await http(pair.a.url, 'POST', '/api/v1/auth/logout', {
        headers: bearer(tokens.access_token),
      })
      expect(logout.status).toBe(204)

      const after = await me()
      expect(after.status).toBe(401)
      expect(after.body).toEqual({ detail: 'Could not validate credentials' })
      expect(after.headers['www-authenticate']).toBe(INVALID_TOKEN)
      const refresh = await http(pair.b.url, 'POST', '/api/v1/auth/refresh', {
        json: { refresh_token: tokens.refresh_token },
      })
      expect(refresh.status).toBe(401)
      expect(refresh.body).toEqual({ detail: 'Invalid refresh token' })
    })

    it('detects on B the reuse of a refresh token rotated on A, and revokes the family', async () => {
      const { tokens } = await signupAndLogin(pair.a.url, pair.a.url)
      const rotated = await http(pair.a.url, 'POST', '/api/v1/auth/refresh', {
        json: { refresh_token: tokens.refresh_token },
      })
      expect(rotated.status).toBe(200)
      expect(rotated.body.refresh_token).not.toBe(tokens.refresh_token)

      // REFRESH_REUSE_GRACE_SECONDS=0: a second use of the old token is theft.
      const reuse = await http(pair.b.url, 'POST', '/api/v1/auth/refresh', {
        json: { refresh_token: tokens.refresh_token },
      })
      expect(reuse.status).toBe(401)
      expect(reuse.body).toEqual({ detail: 'Invalid refresh token' })
      expect(reuse.headers['www-authenticate']).toBeDefined()

      // The whole family is gone, on both instances: the new pair no longer works.
      const next = await http(pair.a.url, 'POST', '/api/v1/auth/refresh', {
        json: { refresh_token: rotated.body.refresh_token },
      })
      expect(next.status).toBe(401)
      const me = await http(pair.b.url, 'GET', '/api/v1/users/me', {
        headers: bearer(rotated.body.access_token),
      })
      expect(me.status).toBe(401)
      expect(me.body).toEqual({ detail: 'Could not validate credentials' })
    })

    it('counts login failures made on both instances toward one throttle', async () => {
      const user = {
        email: `throttle-${randomBytes(5).toString('hex')}@example.com`,
        password: strongPassword(),
      }
      expect((await http(pair.a.url, 'POST', '/api/v1/auth/signup', { json: user })).status).toBe(
        201,
      )
      const wrong = { email: user.email, password: `${user.password}-wrong` }

      // Five failures, alternating A, B, A, B, A: neither instance saw five alone.
      for (let i = 0; i < 5; i++) {
        const res = await http(
          i % 2 === 0 ? pair.a.url : pair.b.url,
          'POST',
          '/api/v1/auth/login',
          {
            json: wrong,
          },
        )
        expect(res.status, `failure ${i + 1}`).toBe(401)
        expect(res.body).toEqual({ detail: 'Invalid credentials' })
      }

      // The sixth attempt, on B (which saw two), is throttled, even with the right password.
      const throttled = await http(pair.b.url, 'POST', '/api/v1/auth/login', { json: user })
      expect(throttled.status).toBe(429)
      expect(throttled.body).toEqual({ detail: 'Too many requests' })
      expect(Number(throttled.headers['retry-after'])).toBeGreaterThan(0)
    })
  },
)
