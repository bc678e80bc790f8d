import type { Fetch } from './discovery.js'
import { invalidToken, unavailable } from './errors.js'

// The consumer side of SPEC §11's revocation feed, as Keygate serves it (docs/api.md):
//   GET {feed}?after=CURSOR&wait=SECONDS   Authorization: Bearer INTROSPECTION_SECRET
//   200 {"items": [{"cursor": "…", "sid": "…" | "sub": "…", "until": NumericDate, "at": NumericDate,
//                   "keep_jti"?: "…"}], "cursor": "…"}
//   410 the feed cannot continue from CURSOR (pruned past it, or another database): start over
//       without `after`, which returns every entry that still covers a live token.
// `wait` asks the server to hold the request (long-poll, at most 30 s) until an entry arrives.
// An entry is kept until `until`, when every token it covers has expired. A `sub` entry with
// `at` covers only tokens issued at or before `at`, so a later sign-in passes; without `at`
// it covers all of that user's tokens. A `sid` entry with `keep_jti` (a password change) covers
// every token of the session but that one.

export interface FeedOptions {
  /**
   * Refuse every token (503) after this long without a successful sync (default 30 s):
   * a revocation may have been missed meanwhile. `Infinity` never fails closed (accepts
   * possibly revoked tokens while Keygate is unreachable).
   */
  failClosedAfterSeconds?: number
}

export interface FeedInternals extends FeedOptions {
  url: string
  secret: string
  fetch: Fetch
  timeoutMs: number
  /** milliseconds since the epoch; tests move it */
  now?: () => number
  /** false: no background loop, tests call syncNow() */
  follow?: boolean
}

// Keygate holds a request at most this long.
const MAX_WAIT_SECONDS = 30
// A server that ignores `wait` must not turn the loop into a busy one.
const MIN_POLL_MS = 200
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms).unref())

interface Entry {
  until: number
  at: number | undefined
  keepJti?: string | undefined
}

export type RevocationFeed = ReturnType<typeof createRevocationFeed>

const numeric = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined)

export function createRevocationFeed(o: FeedInternals) {
  const now = o.now ?? Date.now
  const failClosedMs = (o.failClosedAfterSeconds ?? 30) * 1000
  // Long-poll for half the bound, so a healthy feed always syncs in time.
  const waitSeconds = Math.min(MAX_WAIT_SECONDS, Math.max(0, Math.floor(failClosedMs / 2000)))
  const bySid = new Map<string, Entry>()
  const bySub = new Map<string, Entry>()
  const stop = new AbortController()
  let cursor: string | undefined
  let lastSync = Number.NEGATIVE_INFINITY

  function remember(map: Map<string, Entry>, key: string, entry: Entry) {
    const old = map.get(key)
    // Without `at` an entry covers every token; two entries: the one covering more wins.
    const unbounded = entry.at === undefined || (old !== undefined && old.at === undefined)
    // A token is spared only while every entry for the key spares the same one.
    const keepJti = old === undefined || old.keepJti === entry.keepJti ? entry.keepJti : undefined
    map.set(key, {
      until: Math.max(entry.until, old?.until ?? 0),
      at: unbounded ? undefined : Math.max(entry.at!, old?.at ?? 0),
      keepJti,
    })
  }

  function apply(body: unknown): number {
    const { items, cursor: next } = (body ?? {}) as { items?: unknown; cursor?: unknown }
    if (!Array.isArray(items)) throw new Error('revocation feed: no items array')
    for (const item of items as Record<string, unknown>[]) {
      const until = numeric(item?.until)
      if (until === undefined || typeof item.cursor !== 'string') continue
      const keep = typeof item.keep_jti === 'string' ? item.keep_jti : undefined
      const entry = { until, at: numeric(item.at), keepJti: keep }
      if (typeof item.sid === 'string') remember(bySid, item.sid, entry)
      if (typeof item.sub === 'string') remember(bySub, item.sub, entry)
      cursor = item.cursor
    }
    if (typeof next === 'string') cursor = next
    const seconds = now() / 1000
    for (const map of [bySid, bySub]) for (const [k, e] of map) if (e.until < seconds) map.delete(k)
    return items.length
  }

  async function request(wait: number): Promise<Response> {
    const url = new URL(o.url)
    if (cursor !== undefined) url.searchParams.set('after', cursor)
    url.searchParams.set('wait', String(wait))
    return o.fetch(url, {
      headers: { authorization: `Bearer ${o.secret}`, accept: 'application/json' },
      signal: AbortSignal.any([stop.signal, AbortSignal.timeout(o.timeoutMs + wait * 1000)]),
    })
  }

  async function sync(wait: number): Promise<number> {
    let res = await request(wait)
    if (res.status === 410 && cursor !== undefined) {
      // Cannot continue from our cursor: read every entry still kept, from the start.
      await res.body?.cancel()
      cursor = undefined
      res = await request(0)
    }
    if (res.status !== 200) {
      await res.body?.cancel()
      throw new Error(`${o.url} answered ${res.status}`)
    }
    const count = apply(await res.json())
    lastSync = now()
    return count
  }

  /** Reads pages until one is empty: caught up. */
  async function catchUp(): Promise<void> {
    for (;;) if ((await sync(0)) === 0) return
  }

  async function follow() {
    while (!stop.signal.aborted) {
      const started = Date.now()
      try {
        const count = await sync(waitSeconds)
        if (count === 0) await pause(MIN_POLL_MS - (Date.now() - started))
      } catch {
        // Unreachable: retry in a second; check() fails closed once the bound passes.
        await pause(1000)
      }
    }
  }

  return {
    /** The first sync must succeed: a feed that is not there is a configuration error. */
    async start(): Promise<void> {
      try {
        await catchUp()
      } catch (err) {
        throw new Error(
          `@keygate/verify: revocation feed unavailable at ${o.url} (${(err as Error).message}); is introspectionSecret Keygate's INTROSPECTION_SECRET, and is Keygate recent enough to serve the feed?`,
          { cause: err },
        )
      }
      if (o.follow !== false) void follow()
    },

    /** Throws for a revoked session or user, or when the feed has been silent too long. */
    check(token: {
      sub: string
      sid: string | undefined
      iat: number | undefined
      jti?: string | undefined
    }): void {
      if (now() - lastSync > failClosedMs) throw unavailable(new Error('revocation feed stale'))
      const covers = (e: Entry | undefined) =>
        e !== undefined &&
        (e.keepJti === undefined || e.keepJti !== token.jti) &&
        (e.at === undefined || token.iat === undefined || token.iat <= e.at)
      if (
        (token.sid !== undefined && covers(bySid.get(token.sid))) ||
        covers(bySub.get(token.sub))
      ) {
        throw invalidToken()
      }
    },

    /** Test and diagnostics hook: one sync now, without waiting. */
    syncNow: () => sync(0),

    close(): void {
      stop.abort()
    },
  }
}
