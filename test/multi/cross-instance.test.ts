import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { strongPassword } from '../helpers/factories.js'
import { http } from '../helpers/server-process.js'
import { multiSkipReason, useServerPair } from './pair.js'

const email = () => `multi-${randomBytes(5).toString('hex')}@example.com`

describe.skipIf(multiSkipReason !== undefined)(
  `two instances, one PostgreSQL and one Redis${multiSkipReason ? ` (skipped: ${multiSkipReason})` : ''}`,
  () => {
    const pair = useServerPair({ RATE_LIMIT: 'off' })

    it('both are ready on one migrated database', async () => {
      expect((await http(pair.a.url, 'GET', '/readyz')).status).toBe(200)
      expect((await http(pair.b.url, 'GET', '/readyz')).status).toBe(200)
      expect(pair.a.url).not.toBe(pair.b.url)
    })

    it('accepts on B a token issued by A, and logs in on A a user created on B', async () => {
      const user = { email: email(), password: strongPassword() }
      expect((await http(pair.b.url, 'POST', '/api/v1/auth/signup', { json: user })).status).toBe(
        201,
      )
      const token = await http(pair.a.url, 'POST', '/api/v1/auth/token', {
        form: { username: user.email, password: user.password },
      })
      expect(token.status).toBe(200)
      const me = await http(pair.b.url, 'GET', '/api/v1/users/me', {
        headers: { authorization: `Bearer ${token.body.access_token}` },
      })
      expect(me.status).toBe(200)
      expect(me.body.email).toBe(user.email)
    })

    it('answers one 201 and only 409s to concurrent signups of one email across both', async () => {
      const address = email()
      const attempts = Array.from({ length: 12 }, (_, i) =>
        http(i % 2 === 0 ? pair.a.url : pair.b.url, 'POST', '/api/v1/auth/signup', {
          // Case differs: still one account (SPEC: emails compared case-insensitively).
          json: {
            email: i % 3 === 0 ? address.toUpperCase() : address,
            password: strongPassword(),
          },
        }),
      )
      const results = await Promise.all(attempts)
      const statuses = results.map((r) => r.status).sort()
      expect(statuses).toEqual([201, ...Array(11).fill(409)])
      for (const r of results.filter((r) => r.status === 409)) {
        expect(r.body).toEqual({ detail: 'Email already registered' })
      }
    })
  },
)
