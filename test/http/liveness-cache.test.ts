import { randomBytes } from 'node:crypto'
import { sql } from 'kysely'
import pg from 'pg'
import { describe, expect, it, onTestFinished } from 'vitest'
import type { Config } from '../../src/config.js'
import { createDatabase, type Database } from '../../src/db/database.js'
import { createDeps, type Deps } from '../../src/deps.js'
import type { SessionLiveness } from '../../src/repos/sessions/sessions.js'
import {
  createChangeBus,
  type Transport,
  type TransportHandlers,
} from '../../src/services/revocations/change-bus.js'
import { createLivenessCache } from '../../src/services/sessions/liveness.js'
import { buildTestApp } from '../helpers/app.js'
import { TEST_POSTGRES_URL, testDialect } from '../helpers/db.js'
import { createUser, loginAs } from '../helpers/factories.js'
import { TEST_REDIS_URL } from '../helpers/rate-limit.js'

/** A second set of deps (another "instance") on the test app's database handle. */
async function instance(t: Awaited<ReturnType<typeof buildTestApp>>, over: Partial<Config> = {}) {
  const deps = await createDeps({ ...t.config, ...over }, { database: t.database, clock: t.clock })
  onTestFinished(() => deps.close())
  return deps
}

/**
 * An instance with a connection pool of its own to the same PostgreSQL
 * schema, as another process would have: only the network transport links it.
 */
async function remoteInstance(
  t: Awaited<ReturnType<typeof buildTestApp>>,
  over: Partial<Config> = {},
) {
  const { rows } = await sql<{ s: string }>`select current_schema() as s`.execute(t.database.db)
  const applicationName = `kg_remote_${randomBytes(5).toString('hex')}`
  const database = createDatabase(TEST_POSTGRES_URL, {
    searchPath: rows[0]?.s,
    poolSize: 3,
    applicationName,
  })
  const deps = await createDeps({ ...t.config, ...over }, { database, clock: t.clock })
  onTestFinished(async () => {
    await deps.close()
    await database.close()
  })
  return Object.assign(deps, { applicationName })
}

async function signedIn(t: Awaited<ReturnType<typeof buildTestApp>>) {
  const user = await createUser(t.app)
  const { tokens } = await loginAs(t.app, user)
  return { user, token: tokens.access_token }
}

const refused = (deps: Deps, token: string) =>
  deps.services.auth.authenticate(token).then(
    () => false,
    () => true,
  )

/** Revokes a session behind Keygate's back: only the database knows. */
const revokeByHand = (database: Database, userId: string) =>
  database.db
    .updateTable('sessions')
    .set({ revoked_at: new Date().toISOString() })
    .where('user_id', '=', userId)
    .execute()

async function until(check: () => boolean, timeoutMs = 10_000) {
  const end = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached')
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe('liveness cache (the bearer guard off the database)', () => {
  it('reads a session once, then from memory', async () => {
    const t = await buildTestApp()
    const a = await instance(t)
    const { user, token } = await signedIn(t)
    await until(() => a.bus.trusted)
    expect(await refused(a, token)).toBe(false)
    // Only the database knows: the cached answer stands (the proof it is not re-read)…
    await revokeByHand(t.database, user.id)
    expect(await refused(a, token)).toBe(false)
    // …until anything casts doubt on it.
    a.liveness.clear()
    expect(await refused(a, token)).toBe(true)
  })

  it('forgets a session when it is revoked, and a user when it changes', async () => {
    const t = await buildTestApp()
    const a = await instance(t)
    const { user, token } = await signedIn(t)
    const second = await loginAs(t.app, user)
    expect((await a.services.auth.authenticate(token)).user.email).toBe(user.email)
    expect(await refused(a, second.tokens.access_token)).toBe(false)
    await a.repos.users.update(user.id, { email: `new-${user.email}` }, t.clock.now())
    expect((await a.services.auth.authenticate(token)).user.email).toBe(`new-${user.email}`)
    expect(await refused(a, second.tokens.access_token)).toBe(false)
    await a.repos.sessions.revokeAllForUser(user.id, t.clock.now())
    expect(await refused(a, token)).toBe(true)
    expect(await refused(a, second.tokens.access_token)).toBe(true)
  })

  it('a revocation on one instance is refused by another on its next request', async () => {
    const t = await buildTestApp()
    const [a, b] = [await instance(t), await instance(t)]
    await until(() => a.bus.trusted && b.bus.trusted)
    for (let i = 0; i < 5; i++) {
      const { user, token } = await signedIn(t)
      expect(await refused(b, token)).toBe(false)
      await a.repos.sessions.revokeAllForUser(user.id, t.clock.now())
      expect(await refused(b, token)).toBe(true)
    }
  })

  it('a read that overlaps a change is used once, not remembered', async () => {
    const bus = createChangeBus(() => undefined)
    let reads = 0
    let release: () => void = () => {}
    const value = { user: { id: 'u' } } as unknown as SessionLiveness
    const cache = createLivenessCache({
      bus,
      load: async () => {
        reads++
        await new Promise<void>((r) => {
          release = r
        })
        return value
      },
    })
    const first = cache.find('s')
    await new Promise((r) => setImmediate(r))
    await bus.publish([{ sid: 's' }])
    release()
    expect(await first).toBe(value)
    expect(cache.size).toBe(0)
    const second = cache.find('s')
    await new Promise((r) => setImmediate(r))
    release()
    await second
    expect(reads).toBe(2)
    expect(cache.size).toBe(1)
    // A change to the user forgets every session of it.
    await bus.publish([{ sub: 'u' }])
    expect(cache.size).toBe(0)
  })

  it('remembers nothing while the transport is down, and forgets all on doubt', async () => {
    let connected = false
    let doubt = () => {}
    const bus = createChangeBus((h) => {
      doubt = h.doubt
      return {
        get connected() {
          return connected
        },
        send: async () => {},
        close: async () => {},
      } satisfies Transport
    })
    let reads = 0
    const value = { user: { id: 'u' } } as unknown as SessionLiveness
    const cache = createLivenessCache({
      bus,
      load: async () => {
        reads++
        return value
      },
    })
    await cache.find('s')
    await cache.find('s')
    expect(reads).toBe(2)
    connected = true
    await cache.find('s')
    await cache.find('s')
    expect(reads).toBe(3)
    doubt()
    await cache.find('s')
    expect(reads).toBe(4)
  })

  it('publish resolves once every peer has applied the change, not just sent it', async () => {
    // A slow network between two buses: every message takes 50 ms, echoes included.
    const ends: ((m: string) => void)[] = []
    const link = (h: TransportHandlers): Transport => {
      ends.push(h.receive)
      return {
        connected: true,
        echoes: true,
        send: async (m) => {
          for (const receive of ends) setTimeout(() => receive(m), 50)
        },
        close: async () => {},
      }
    }
    const a = createChangeBus(link)
    const b = createChangeBus(link)
    onTestFinished(async () => {
      await a.close()
      await b.close()
    })
    const heard: string[] = []
    b.subscribe({
      changes: (c) => heard.push(...c.map((x) => ('sid' in x ? x.sid : x.sub))),
      doubt() {},
    })
    await new Promise((r) => setTimeout(r, 200)) // the hellos cross
    await a.publish([{ sid: 's1' }])
    expect(heard).toEqual(['s1'])
    // A peer that said goodbye is not waited for.
    await b.close()
    await new Promise((r) => setTimeout(r, 100))
    const started = performance.now()
    await a.publish([{ sid: 's2' }])
    expect(performance.now() - started).toBeLessThan(500)
  })

  it.skipIf(testDialect !== 'postgres')(
    'PostgreSQL LISTEN/NOTIFY: a lost listener reads the database until it is back',
    async () => {
      const t = await buildTestApp()
      const [a, b] = [await instance(t), await remoteInstance(t)]
      await until(() => a.bus.trusted && b.bus.trusted && a.bus.peerCount > 0)
      const one = await signedIn(t)
      expect(await refused(b, one.token)).toBe(false)
      await a.repos.sessions.revokeAllForUser(one.user.id, t.clock.now())
      // B acknowledged it before the revocation returned.
      expect(await refused(b, one.token)).toBe(true)

      // Kill B's LISTEN connection: B must stop trusting its memory.
      const two = await signedIn(t)
      expect(await refused(b, two.token)).toBe(false)
      const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL })
      await admin.connect()
      onTestFinished(() => admin.end())
      // Only this test's remote instance (its application_name): never another run's.
      await admin.query(
        "select pg_terminate_backend(pid) from pg_stat_activity where query = 'listen keygate_changes' and application_name = $1",
        [b.applicationName],
      )
      await until(() => !b.bus.trusted)
      await revokeByHand(t.database, two.user.id)
      expect(await refused(b, two.token)).toBe(true)
      // Back, and trusted again: changes flow.
      await until(() => b.bus.trusted)
      const three = await signedIn(t)
      expect(await refused(b, three.token)).toBe(false)
      await a.repos.sessions.revokeAllForUser(three.user.id, t.clock.now())
      expect(await refused(b, three.token)).toBe(true)
    },
    60_000,
  )

  it.skipIf(!TEST_REDIS_URL || testDialect !== 'postgres')(
    'Redis pub/sub carries revocations between instances',
    async () => {
      const t = await buildTestApp()
      const over = {
        redisUrl: TEST_REDIS_URL,
        redisKeyPrefix: `kg-test-${randomBytes(4).toString('hex')}:`,
      }
      const [a, b] = [await instance(t, over), await remoteInstance(t, over)]
      await until(() => a.bus.trusted && b.bus.trusted)
      for (let i = 0; i < 5; i++) {
        const { user, token } = await signedIn(t)
        expect(await refused(b, token)).toBe(false)
        await a.repos.sessions.revokeAllForUser(user.id, t.clock.now())
        expect(await refused(b, token)).toBe(true)
      }
    },
  )
})
