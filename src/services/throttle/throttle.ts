import { createHash } from 'node:crypto'
import type { RateLimitConfig } from '../../config.js'
import type { Clock } from '../../domain/time.js'
import { KeygateError } from '../../errors.js'
import { clientGroup } from './client-group.js'
import type { BackoffRule, RateLimitStore } from './memory-store.js'

const MINUTE = 60_000
const HOUR = 60 * MINUTE

export interface Throttle {
  /** One request to a rate-limited endpoint from this client address. */
  request(ip: string | undefined): Promise<void>
  /**
   * Runs a password check under the per-account rules. `check` throws
   * INVALID_CREDENTIALS for a wrong password or unknown account.
   */
  login<T>(login: string, ip: string | undefined, check: () => Promise<T>): Promise<T>
  /** Runs an account creation under the per-client rule; a 409 counts against the client. */
  signup<T>(ip: string | undefined, create: () => Promise<T>): Promise<T>
}

/** 429 with an integer Retry-After (RFC 9110 §10.2.3) of at least one second. */
function tooMany(ms: number): KeygateError {
  const seconds = Math.max(1, Math.ceil(ms / 1000))
  return new KeygateError('RATE_LIMITED', { headers: { 'Retry-After': String(seconds) } })
}

// Logins are counted by their normalized form, whether or not the account
// exists, so a 429 says nothing about which emails are registered. The key
// holds a digest: neither Redis nor a memory dump lists the emails tried.
const accountKey = (login: string) =>
  createHash('sha256').update(login.trim().toLowerCase()).digest('base64url').slice(0, 22)

const isTaken = (err: unknown) =>
  err instanceof KeygateError && (err.code === 'EMAIL_TAKEN' || err.code === 'USERNAME_TAKEN')

// A store that cannot answer (Redis away) refuses the request with 503 rather
// than letting guesses through unthrottled.
function guarded(store: RateLimitStore): RateLimitStore {
  const down = (): never => {
    throw new KeygateError('SERVICE_UNAVAILABLE')
  }
  return {
    hit: (...a) => store.hit(...a).catch(down),
    unhit: (...a) => store.unhit(...a).catch(down),
    attempt: (...a) => store.attempt(...a).catch(down),
    reset: (...a) => store.reset(...a).catch(down),
    ping: () => store.ping(),
    close: () => store.close(),
  }
}

export const noThrottle: Throttle = {
  request: async () => {},
  login: (_login, _ip, check) => check(),
  signup: (_ip, create) => create(),
}

export function createThrottle(deps: {
  settings: RateLimitConfig
  store: RateLimitStore
  clock: Clock
}): Throttle {
  const { settings, clock } = deps
  if (!settings.enabled) return noThrottle

  const store = guarded(deps.store)
  const rule: BackoffRule = {
    free: settings.accountClientFailures,
    baseMs: settings.baseDelaySeconds * 1000,
    maxMs: settings.maxDelaySeconds * 1000,
    memoryMs: HOUR,
  }

  return {
    async request(ip) {
      const now = clock.now().getTime()
      const r = await store.hit(
        `rq:${clientGroup(ip)}`,
        settings.clientRequestsPerMinute,
        MINUTE,
        now,
      )
      if (!r.allowed) throw tooMany(r.resetAt - now)
    },

    async login(login, ip, check) {
      const account = `a:${accountKey(login)}`
      const pair = `ac:${accountKey(login)}:${clientGroup(ip)}`
      const now = clock.now().getTime()
      // Attempts are counted before the password is checked, so a burst of
      // parallel guesses cannot all slip in before the first failure lands.
      const ceiling = await store.hit(account, settings.accountFailuresPerHour, HOUR, now)
      if (!ceiling.allowed) throw tooMany(ceiling.resetAt - now)
      const backoff = await store.attempt(pair, rule, now)
      if (!backoff.allowed) {
        await store.unhit(account, now)
        // While locked even the right password is refused: guessing gains nothing.
        throw tooMany(backoff.lockedUntil - now)
      }
      try {
        const result = await check()
        // The owner got in: their client starts afresh, and the attempt leaves the ceiling.
        await Promise.all([store.reset(pair), store.unhit(account, now)])
        return result
      } catch (err) {
        if (!(err instanceof KeygateError && err.code === 'INVALID_CREDENTIALS')) {
          await store.unhit(account, now)
        }
        throw err
      }
    },

    async signup(ip, create) {
      const key = `su:${clientGroup(ip)}`
      const now = clock.now().getTime()
      // Only 409s stay counted: they are the one answer that tells whether an
      // email is registered, so probing through signup is what this limits.
      const r = await store.hit(key, settings.signupConflictsPerHour, HOUR, now)
      if (!r.allowed) throw tooMany(r.resetAt - now)
      try {
        const result = await create()
        await store.unhit(key, now)
        return result
      } catch (err) {
        if (!isTaken(err)) await store.unhit(key, now)
        throw err
      }
    },
  }
}
