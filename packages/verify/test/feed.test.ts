// The revocation feed followed from a real Keygate (listening on a socket): logouts and
// deletions are refused within about a second, a stale feed fails closed, and a cursor
// the server cannot continue from (410) is recovered by starting over.
import { describe, expect, it, onTestFinished } from 'vitest'
import { systemClock } from '../../../src/domain/time.js'
import { buildTestApp } from '../../../test/helpers/app.js'
import { createUser, loginAs } from '../../../test/helpers/factories.js'
import { createRevocationFeed } from '../src/feed.js'
import { createVerifier, type Verifier, VerifyError } from '../src/index.js'
import { INTROSPECTION_SECRET, type Keygate, logout, startKeygate } from './helpers.js'

async function verifierFor(k: Keygate, failClosedAfterSeconds?: number): Promise<Verifier> {
  const verifier = await createVerifier({
    issuer: k.base,
    audience: 'keygate',
    introspectionSecret: INTROSPECTION_SECRET,
    ...(failClosedAfterSeconds !== undefined && { feed: { failClosedAfterSeconds } }),
  })
  onTestFinished(() => verifier.close())
  return verifier
}

/** Milliseconds until `verify` refuses the token with a 401 (or throws after `limitMs`). */
async function refusedAfter(verifier: Verifier, token: string, since: number, limitMs = 5000) {
  for (;;) {
    try {
      await verifier.verify(token)
    } catch (err) {
      if (err instanceof VerifyError && err.status === 401) return performance.now() - since
      throw err
    }
    if (performance.now() - since > limitMs) throw new Error(`still accepted after ${limitMs} ms`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

// "Within about a second" (SPEC §11), timed from before the revoking request, which
// itself may wait up to 1 s for other instances on the same database to acknowledge
// (other test files' Keygates among them): the bound is that second plus the feed's hop.
const ABOUT_A_SECOND_MS = 1500

describe('revocation feed, followed from a real Keygate', () => {
  it('refuses a logged-out session within about a second, other sessions still pass', async () => {
    const k = await startKeygate('EdDSA', { introspectionSecret: INTROSPECTION_SECRET })
    const verifier = await verifierFor(k)
    const kept = await k.login()
    for (let i = 0; i < 5; i++) {
      const { access_token } = await k.login()
      expect((await verifier.verify(access_token)).sid).toBeTypeOf('string')
      const started = performance.now()
      await logout(k, access_token)
      expect(await refusedAfter(verifier, access_token, started)).toBeLessThan(ABOUT_A_SECOND_MS)
    }
    expect((await verifier.verify(kept.access_token)).sub).toBe(kept.user.id)
  })

  it('refuses a deleted user’s tokens (a `sub` entry), and a pre-existing revocation at start', async () => {
    const k = await startKeygate('EdDSA', { introspectionSecret: INTROSPECTION_SECRET })
    const early = await k.login()
    await logout(k, early.access_token)
    const verifier = await verifierFor(k)
    await expect(verifier.verify(early.access_token)).rejects.toMatchObject({ status: 401 })

    const { access_token, user } = await k.login()
    await verifier.verify(access_token)
    const started = performance.now()
    const res = await fetch(`${k.base}/api/v1/users/me`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ password: user.password }),
    })
    expect(res.status).toBe(204)
    expect(await refusedAfter(verifier, access_token, started)).toBeLessThan(ABOUT_A_SECOND_MS)
  })

  it('after a password change: other sessions refused, and in the changing one all but its token', async () => {
    const k = await startKeygate('EdDSA', { introspectionSecret: INTROSPECTION_SECRET })
    const verifier = await verifierFor(k)
    const other = await k.login()
    const mine = await k.login()
    // A second access token of the same session (a refresh): the one a thief would hold.
    const refreshed = await fetch(`${k.base}/api/v1/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: mine.refresh_token }),
    }).then((r) => r.json() as Promise<{ access_token: string }>)
    for (const t of [other.access_token, mine.access_token, refreshed.access_token]) {
      await verifier.verify(t)
    }
    const started = performance.now()
    const res = await fetch(`${k.base}/api/v1/users/me/password`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${refreshed.access_token}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        current_password: mine.user.password,
        new_password: 'Another-Pass-9f3c-2026',
      }),
    })
    expect(res.status).toBeLessThan(300)
    expect(await refusedAfter(verifier, other.access_token, started)).toBeLessThan(
      ABOUT_A_SECOND_MS,
    )
    expect(await refusedAfter(verifier, mine.access_token, started)).toBeLessThan(ABOUT_A_SECOND_MS)
    // The token that made the change stays valid until it expires, as on Keygate.
    expect((await verifier.verify(refreshed.access_token)).sub).toBe(mine.user.id)
    const keygate = await fetch(`${k.base}/api/v1/users/me`, {
      headers: { authorization: `Bearer ${refreshed.access_token}` },
    })
    expect(keygate.status).toBe(200)
  })

  it('fails closed (503) once the feed has been unreachable for failClosedAfterSeconds', async () => {
    const k = await startKeygate('EdDSA', { introspectionSecret: INTROSPECTION_SECRET })
    const verifier = await verifierFor(k, 2)
    const { access_token } = await k.login()
    await verifier.verify(access_token)
    await k.app.close()
    // Within the bound it still accepts (signature and claims are checked locally)…
    await verifier.verify(access_token)
    await new Promise((r) => setTimeout(r, 2500))
    // …after it, every token is refused as the service being unavailable, not as invalid.
    await expect(verifier.verify(access_token)).rejects.toMatchObject({
      status: 503,
      detail: 'Service temporarily unavailable',
    })
  }, 20_000)

  it('starts over when Keygate cannot continue from its cursor (410)', async () => {
    const k = await startKeygate('EdDSA', { introspectionSecret: INTROSPECTION_SECRET })
    for (let i = 0; i < 3; i++) await logout(k, (await k.login()).access_token)
    // Later the same URL answers from another database (a restore, a new deployment),
    // whose feed is behind the follower's cursor: Keygate says 410.
    const other = await buildTestApp(
      { introspectionSecret: INTROSPECTION_SECRET },
      { clock: systemClock },
    )
    const user = await createUser(other.app)
    const { tokens } = await loginAs(other.app, user)
    await other.app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      headers: { authorization: `Bearer ${tokens.access_token}` },
    })
    let moved = false
    const asked: string[] = []
    const switching: typeof fetch = async (input, init) => {
      const u = new URL(String(input))
      asked.push(u.search)
      if (!moved) return fetch(input, init)
      const res = await other.app.inject({
        method: 'GET',
        url: `${u.pathname}${u.search}`,
        headers: init?.headers as Record<string, string>,
      })
      return new Response(res.body, { status: res.statusCode })
    }
    const feed = createRevocationFeed({
      url: `${k.base}/api/v1/auth/revocations`,
      secret: INTROSPECTION_SECRET,
      fetch: switching,
      timeoutMs: 2000,
      follow: false,
    })
    await feed.start()
    expect(asked.at(-1)).toBe('?after=3&wait=0')
    moved = true
    const sid = JSON.parse(Buffer.from(tokens.access_token.split('.')[1]!, 'base64url').toString())
      .sid as string
    const token = { sub: user.id, sid, iat: Math.floor(Date.now() / 1000) - 1 }
    expect(() => feed.check(token)).not.toThrow()
    expect(await feed.syncNow()).toBe(1)
    expect(asked.slice(-2)).toEqual(['?after=3&wait=0', '?wait=0'])
    expect(() => feed.check(token)).toThrow(VerifyError)
    feed.close()
  })

  it('refuses to start with a wrong secret, and says what to check', async () => {
    const k = await startKeygate('EdDSA', { introspectionSecret: INTROSPECTION_SECRET })
    const feed = createRevocationFeed({
      url: `${k.base}/api/v1/auth/revocations`,
      secret: `${INTROSPECTION_SECRET}-wrong`,
      fetch,
      timeoutMs: 2000,
      follow: false,
    })
    await expect(feed.start()).rejects.toThrow(
      /revocation feed unavailable at .*\/api\/v1\/auth\/revocations \(.*answered 401\)/,
    )
  })
})
