import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { strongPassword } from '../helpers/factories.js'
import { http } from '../helpers/server-process.js'
import { multiSkipReason, useServerPair } from './pair.js'

// A grace-window replay may land on another instance: it must get the same
// successor there (the seal's key comes from the shared secret, not the process).

describe.skipIf(multiSkipReason !== undefined)(
  `refresh grace across two instances${multiSkipReason ? ` (skipped: ${multiSkipReason})` : ''}`,
  () => {
    const pair = useServerPair({
      RATE_LIMIT_CLIENT_PER_MINUTE: '1000000',
      RATE_LIMIT_ACCOUNT_FAILURES_PER_HOUR: '2',
    })

    it('a replay on B of a token rotated on A answers with the same successor', async () => {
      const user = {
        email: `grace-${randomBytes(5).toString('hex')}@example.com`,
        password: strongPassword(),
      }
      expect((await http(pair.a.url, 'POST', '/api/v1/auth/signup', { json: user })).status).toBe(
        201,
      )
      const login = await http(pair.a.url, 'POST', '/api/v1/auth/login', { json: user })
      const first = login.body.refresh_token as string
      const onA = await http(pair.a.url, 'POST', '/api/v1/auth/refresh', {
        json: { refresh_token: first },
      })
      const onB = await http(pair.b.url, 'POST', '/api/v1/auth/refresh', {
        json: { refresh_token: first },
      })
      expect(onA.status).toBe(200)
      expect(onB.status).toBe(200)
      expect(onB.body.refresh_token).toBe(onA.body.refresh_token)

      // A known-device cookie set by A is honoured by B (same secret).
      const cookie = String(login.headers['set-cookie']).split(';')[0]!
      expect(cookie).toMatch(/^keygate_device=/)
      const wrong = { email: user.email, password: 'not-the-password' }
      for (const base of [pair.a.url, pair.b.url]) {
        expect((await http(base, 'POST', '/api/v1/auth/login', { json: wrong })).status).toBe(401)
      }
      const locked = await http(pair.b.url, 'POST', '/api/v1/auth/login', { json: user })
      expect(locked.status).toBe(429)
      const known = await http(pair.b.url, 'POST', '/api/v1/auth/login', {
        json: user,
        headers: { cookie },
      })
      expect(known.status).toBe(200)
    })
  },
)
