// The revocation-feed consumer against a stub of the PROPOSED wire format (src/feed.ts):
// Keygate does not serve the feed yet, so these tests pin the consumer's logic only.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it, onTestFinished } from 'vitest'
import { createRevocationFeed } from '../src/feed.js'
import { createVerifier, VerifyError } from '../src/index.js'
import { INTROSPECTION_SECRET, startKeygate } from './helpers.js'

const SECRET = 'feed-secret'

/** A stub feed: serves `items` after the cursor it is asked about. */
async function stubFeed() {
  const items: Record<string, unknown>[] = []
  const state = { status: 200, asked: [] as (string | null)[], auth: [] as string[] }
  const server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x')
    state.asked.push(url.searchParams.get('after'))
    state.auth.push(req.headers.authorization ?? '')
    if (state.status !== 200) return void res.writeHead(state.status).end()
    const after = Number(url.searchParams.get('after') ?? 0)
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ items: items.filter((i) => Number(i.cursor) > after) }))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  onTestFinished(() => new Promise<void>((r) => server.close(() => r())))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/auth/revocations`
  return { url, items, state }
}

describe('revocation feed consumer (server side not in Keygate yet)', () => {
  it('refuses revoked sessions and users, follows the cursor, and fails closed', async () => {
    const stub = await stubFeed()
    let now = 1_800_000_000_000
    const feed = createRevocationFeed({
      url: stub.url,
      secret: SECRET,
      fetch,
      timeoutMs: 2000,
      failClosedAfterSeconds: 10,
      now: () => now,
      follow: false,
    })
    await feed.start()
    const sec = now / 1000
    const token = { sub: 'u1', sid: 's1', iat: sec - 60 }
    feed.check(token)

    stub.items.push({ cursor: '1', sid: 's1', until: sec + 600 })
    stub.items.push({ cursor: '2', sub: 'u2', until: sec + 600, at: sec - 10 })
    await feed.syncNow()
    expect(stub.state.asked).toEqual([null, null])
    expect(stub.state.auth.every((a) => a === `Bearer ${SECRET}`)).toBe(true)
    expect(() => feed.check(token)).toThrow(VerifyError)
    expect(() => feed.check({ ...token, sid: 's2' })).not.toThrow()
    // A user entry covers tokens issued up to the revocation, not a later sign-in.
    expect(() => feed.check({ sub: 'u2', sid: 's9', iat: sec - 20 })).toThrow(VerifyError)
    expect(() => feed.check({ sub: 'u2', sid: 's9', iat: sec })).not.toThrow()

    await feed.syncNow()
    expect(stub.state.asked.at(-1)).toBe('2')
    // Entries go once every token they cover has expired.
    now += 601_000
    await feed.syncNow()
    expect(() => feed.check({ ...token, iat: sec + 590 })).not.toThrow()

    stub.state.status = 502
    await expect(feed.syncNow()).rejects.toThrow(/502/)
    now += 9_000
    feed.check({ ...token, sid: 's3' })
    now += 2_000
    let stale: unknown
    try {
      feed.check({ ...token, sid: 's3' })
    } catch (err) {
      stale = err
    }
    expect(stale).toMatchObject({ status: 503, detail: 'Service temporarily unavailable' })
    feed.close()
  })

  it('createVerifier with a feed refuses to start while Keygate does not serve one', async () => {
    const k = await startKeygate('EdDSA', { introspectionSecret: INTROSPECTION_SECRET })
    await expect(
      createVerifier({
        issuer: k.base,
        audience: 'keygate',
        introspectionSecret: INTROSPECTION_SECRET,
        feed: { failClosedAfterSeconds: 10 },
      }),
    ).rejects.toThrow(
      /revocation feed unavailable at .*\/api\/v1\/auth\/revocations.*does not serve it yet/,
    )
  })
})
