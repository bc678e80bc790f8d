import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createVerifier, type Verifier } from '../../packages/verify/src/index.js'
import { strongPassword } from '../helpers/factories.js'
import { createServerDatabase, type ServerDatabase } from '../helpers/server-db.js'
import { http, type ServerProcess, startServer, stopAllServers } from '../helpers/server-process.js'
import { multiSkipReason } from './pair.js'

// SPEC §11 / issue 19: a revocation made on instance A is refused on instance B and in a
// @keygate/verify consumer (following the feed served by B) within a second, p99 over 200
// trials. Numbers go to $PROPAGATION_REPORT.<transport>.json when set (docs/decisions/revocation-feed.md).

const TRIALS = 200
const ISSUER = 'http://keygate.test'
const SECRET = `propagation-secret-${randomBytes(16).toString('hex')}`
const ADMIN = {
  email: `root-${randomBytes(4).toString('hex')}@example.com`,
  password: strongPassword(),
}
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
const sidOf = (access: string): string =>
  JSON.parse(Buffer.from(access.split('.')[1] ?? '', 'base64url').toString()).sid

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN

function summary(ms: number[]) {
  const s = [...ms].sort((x, y) => x - y)
  const r = (v: number) => Math.round(v * 10) / 10
  return {
    n: s.length,
    p50: r(quantile(s, 0.5)),
    p90: r(quantile(s, 0.9)),
    p99: r(quantile(s, 0.99)),
    max: r(s.at(-1) ?? Number.NaN),
  }
}

// Between instances changes travel through Redis pub/sub when REDIS_URL is set, else
// through PostgreSQL LISTEN/NOTIFY: both are measured.
describe.skipIf(multiSkipReason !== undefined).each(['redis', 'postgres'] as const)(
  `revocation propagation across instances through %s${multiSkipReason ? ` (skipped: ${multiSkipReason})` : ''}`,
  (transport) => {
    let db: ServerDatabase | undefined
    let dataDir = ''
    let a: ServerProcess
    let b: ServerProcess
    let verifier: Verifier

    beforeAll(async () => {
      db = await createServerDatabase('postgres')
      dataDir = mkdtempSync(join(tmpdir(), 'keygate-prop-'))
      const env = {
        DATABASE_URL: db.url,
        REDIS_URL: transport === 'redis' ? (process.env.TEST_REDIS_URL ?? '') : '',
        REDIS_KEY_PREFIX: `kg-prop-${randomBytes(4).toString('hex')}:`,
        PUBLIC_URL: ISSUER,
        JWT_ALGORITHM: 'EdDSA',
        // One key file for both, as instances sharing a volume (or a mounted secret) have.
        DATA_DIR: dataDir,
        INTROSPECTION_SECRET: SECRET,
        FIRST_SUPERUSER_EMAIL: ADMIN.email,
        FIRST_SUPERUSER_PASSWORD: ADMIN.password,
        RATE_LIMIT_CLIENT_PER_MINUTE: '1000000',
        REFRESH_REUSE_GRACE_SECONDS: '0',
      }
      // A first, so it creates the key file and runs the migrations; then B.
      a = await startServer(env, { timeoutMs: 90_000 })
      b = await startServer(env, { timeoutMs: 90_000 })
      // The consumer reaches "the issuer" through B: its feed there is woken by A's changes.
      const viaB: typeof fetch = (input, init) =>
        fetch(String(input instanceof Request ? input.url : input).replace(ISSUER, b.url), init)
      verifier = await createVerifier({
        issuer: ISSUER,
        audience: 'keygate',
        introspectionSecret: SECRET,
        fetch: viaB,
      })
    }, 180_000)

    afterAll(async () => {
      await verifier?.close()
      await stopAllServers()
      await db?.drop()
      if (dataDir) rmSync(dataDir, { recursive: true, force: true })
    }, 30_000)

    async function signIn(user: { email: string; password: string }) {
      const res = await http(a.url, 'POST', '/api/v1/auth/login', { json: user })
      expect(res.status, JSON.stringify(res.body)).toBe(200)
      return res.body as { access_token: string; refresh_token: string }
    }

    /** ms from `start` until B answers 401 for the token (polled), and whether its first try did. */
    async function refusedOnB(token: string, start: number) {
      let tries = 0
      for (;;) {
        tries++
        const res = await http(b.url, 'GET', '/api/v1/users/me', { headers: bearer(token) })
        if (res.status === 401) return { ms: performance.now() - start, first: tries === 1 }
        if (performance.now() - start > 5000)
          throw new Error(`B still accepts after 5 s (${res.status})`)
      }
    }

    async function refusedByVerifier(token: string, start: number) {
      for (;;) {
        const refused = await verifier.verify(token).then(
          () => false,
          (err: { status?: number }) => {
            if (err.status !== 401) throw err
            return true
          },
        )
        if (refused) return performance.now() - start
        if (performance.now() - start > 5000) throw new Error('verifier still accepts after 5 s')
        await new Promise((r) => setTimeout(r, 2))
      }
    }

    /** Warms B and the verifier with the token, revokes through `revoke` on A, times both refusals. */
    async function trial(token: string, revoke: () => Promise<unknown>) {
      expect(
        (await http(b.url, 'GET', '/api/v1/users/me', { headers: bearer(token) })).status,
      ).toBe(200)
      await verifier.verify(token)
      const start = performance.now()
      const [onB, inVerifier] = await Promise.all([
        revoke().then(() => refusedOnB(token, start)),
        refusedByVerifier(token, start),
      ])
      return { onB, inVerifier }
    }

    it(`logout on A: refused on B and by the verifier, p99 ≤ 1 s over ${TRIALS} trials`, async () => {
      const user = {
        email: `prop-${randomBytes(5).toString('hex')}@example.com`,
        password: strongPassword(),
      }
      expect((await http(a.url, 'POST', '/api/v1/auth/signup', { json: user })).status).toBe(201)
      const onB: number[] = []
      const inVerifier: number[] = []
      let firstTry = 0
      for (let i = 0; i < TRIALS; i++) {
        const { access_token } = await signIn(user)
        const r = await trial(access_token, async () => {
          const res = await http(a.url, 'POST', '/api/v1/auth/logout', {
            headers: bearer(access_token),
          })
          expect(res.status).toBe(204)
        })
        onB.push(r.onB.ms)
        inVerifier.push(r.inVerifier)
        if (r.onB.first) firstTry++
      }
      const report = {
        transport,
        trials: TRIALS,
        instanceB: summary(onB),
        verifier: summary(inVerifier),
        refusedOnFirstRequestToB: firstTry,
      }
      console.log(`revocation propagation: ${JSON.stringify(report)}`)
      if (process.env.PROPAGATION_REPORT) {
        writeFileSync(`${process.env.PROPAGATION_REPORT}.${transport}.json`, JSON.stringify(report))
      }
      // Generous on a shared machine: the target is p99 ≤ 1 s.
      expect(report.instanceB.p99).toBeLessThanOrEqual(1000)
      expect(report.verifier.p99).toBeLessThanOrEqual(1000)
      // "Revoked on the next request": B's first request after the logout answered is refused.
      expect(firstTry).toBeGreaterThanOrEqual(TRIALS * 0.99)
    }, 600_000)

    it('every other revocation path on A reaches B and the verifier within a second', async () => {
      const admin = bearer((await signIn(ADMIN)).access_token)
      const fresh = async () => {
        const user = {
          email: `path-${randomBytes(5).toString('hex')}@example.com`,
          password: strongPassword(),
        }
        const res = await http(a.url, 'POST', '/api/v1/auth/signup', { json: user })
        expect(res.status).toBe(201)
        return { ...user, id: (res.body as { id: string }).id }
      }
      const paths: Record<
        string,
        (
          u: Awaited<ReturnType<typeof fresh>>,
          t: { access_token: string; refresh_token: string },
        ) => Promise<unknown>
      > = {
        'logout all': (_, t) =>
          http(a.url, 'POST', '/api/v1/auth/logout', {
            headers: bearer(t.access_token),
            json: { all: true },
          }),
        'session delete': async (u, t) => {
          const other = await signIn(u)
          return http(a.url, 'DELETE', `/api/v1/users/me/sessions/${sidOf(t.access_token)}`, {
            headers: bearer(other.access_token),
          })
        },
        'RFC 7009 revoke': (_, t) =>
          http(a.url, 'POST', '/api/v1/auth/revoke', { form: { token: t.refresh_token } }),
        'password change': async (u) => {
          const other = await signIn(u)
          return http(a.url, 'POST', '/api/v1/users/me/password', {
            headers: bearer(other.access_token),
            json: { current_password: u.password, new_password: strongPassword() },
          })
        },
        deactivation: (u) =>
          http(a.url, 'PATCH', `/api/v1/users/${u.id}`, {
            headers: admin,
            json: { is_active: false },
          }),
        deletion: (u) => http(a.url, 'DELETE', `/api/v1/users/${u.id}`, { headers: admin }),
        'admin revocation': (u) =>
          http(a.url, 'DELETE', `/api/v1/users/${u.id}/sessions`, { headers: admin }),
        // REFRESH_REUSE_GRACE_SECONDS=0: the second use is reuse at once.
        'refresh reuse': async (_, t) => {
          await http(a.url, 'POST', '/api/v1/auth/refresh', {
            json: { refresh_token: t.refresh_token },
          })
          return http(a.url, 'POST', '/api/v1/auth/refresh', {
            json: { refresh_token: t.refresh_token },
          })
        },
      }
      const results: Record<string, { onB: number; verifier: number }> = {}
      for (const [name, revoke] of Object.entries(paths)) {
        const user = await fresh()
        const tokens = await signIn(user)
        const r = await trial(tokens.access_token, () => revoke(user, tokens))
        results[name] = { onB: Math.round(r.onB.ms), verifier: Math.round(r.inVerifier) }
      }
      console.log(`revocation paths (${transport}): ${JSON.stringify(results)}`)
      for (const [name, r] of Object.entries(results)) {
        expect(r.onB, name).toBeLessThanOrEqual(1000)
        expect(r.verifier, name).toBeLessThanOrEqual(1000)
      }
    }, 300_000)
  },
)
