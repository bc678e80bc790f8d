import type { Clock } from '../../domain/time.js'
import { KeygateError } from '../../errors.js'
import type { Revocation, RevocationsRepo } from '../../repos/sessions/revocations.js'
import type { ChangeBus } from './change-bus.js'

/** Longest a follower's request is held open (`wait` is capped to it). */
export const MAX_WAIT_SECONDS = 30
const PAGE_SIZE = 500
// Wake-ups come from the change bus; this re-check covers a bus that is down.
const RECHECK_MS = 1000

export interface FeedEntry {
  cursor: string
  sid?: string
  sub?: string
  /** NumericDate: every token the entry covers has expired by then */
  until: number
  /** NumericDate of the revocation; a `sub` entry covers tokens issued up to it */
  at: number
  /** on a `sid` entry: the one access token (jti) of the session still accepted */
  keep_jti?: string
}

export interface FeedPage {
  items: FeedEntry[]
  cursor: string
}

export interface RevocationFeedDeps {
  clock: Clock
  revocations: RevocationsRepo
  bus: Pick<ChangeBus, 'subscribe'>
}

const seconds = (d: Date) => Math.floor(d.getTime() / 1000)

function toEntry(r: Revocation): FeedEntry {
  return {
    cursor: String(r.cursor),
    ...(r.sid !== null && { sid: r.sid }),
    ...(r.sub !== null && { sub: r.sub }),
    until: Math.ceil(r.until.getTime() / 1000),
    at: seconds(r.at),
    ...(r.keepJti !== null && { keep_jti: r.keepJti }),
  }
}

/** The revocation feed (SPEC §11), served by long-polling; see docs/api.md. */
export function createRevocationFeedService(deps: RevocationFeedDeps) {
  const { clock, revocations, bus } = deps

  /** Resolves on the next committed change, after `ms`, or when `signal` aborts. */
  function nextChange(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        unsubscribe()
        signal?.removeEventListener('abort', done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      const unsubscribe = bus.subscribe({ changes: done, doubt: done })
      signal?.addEventListener('abort', done)
    })
  }

  return {
    /**
     * Entries after `after` (from the oldest retained without it). With none,
     * waits up to `waitSeconds` for one. A cursor this feed cannot continue,
     * because entries after it were pruned or it is ahead of the feed (another
     * database, a restore), is CURSOR_EXPIRED: the follower starts over
     * without one, which returns every entry that still matters.
     */
    async page(
      after: number | undefined,
      waitSeconds = 0,
      signal?: AbortSignal,
    ): Promise<FeedPage> {
      const bounds = await revocations.bounds()
      if (after !== undefined) {
        const lost = bounds ? after < bounds.oldest - 1 || after > bounds.newest : after > 0
        if (lost) throw new KeygateError('CURSOR_EXPIRED')
      }
      const from = after ?? 0
      const deadline = performance.now() + Math.min(waitSeconds, MAX_WAIT_SECONDS) * 1000
      for (;;) {
        const rows = await revocations.after(from, PAGE_SIZE)
        if (rows.length > 0) {
          return { items: rows.map(toEntry), cursor: String(rows[rows.length - 1]!.cursor) }
        }
        const left = deadline - performance.now()
        if (left <= 0 || signal?.aborted) {
          return { items: [], cursor: String(after ?? bounds?.newest ?? 0) }
        }
        await nextChange(Math.min(left, RECHECK_MS), signal)
      }
    },

    /** Deletes entries whose tokens have all expired (the hourly pruner). */
    prune: () => revocations.deleteExpired(clock.now()),
  }
}
