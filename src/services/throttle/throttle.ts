import { createHmac, randomBytes } from 'node:crypto'
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
   * Runs a password check under the per-account rules. `account` names the
   * account (see `accountOf`), so every spelling of one login shares a
   * budget. `check` throws INVALID_CREDENTIALS (or WRONG_PASSWORD) for a wrong
   * password. `device` is the verified known-device id of this account, if the
   * client presented one: it stands in for the per-account ceiling.
   */
  login<T>(
    account: string,
    ip: string | undefined,
    check: () => Promise<T>,
    device?: string,
  ): Promise<T>
  /** Runs an account creation (or change) under the per-client rule; a 409 counts against the client. */
  signup<T>(ip: string | undefined, create: () => Promise<T>): Promise<T>
  /** Whether another password reset mail may go to this account now (counted when true). */
  resetMail(userId: string): Promise<boolean>
  /** One write (a new post) by this account; 429 beyond its rate. */
  write(userId: string): Promise<void>
}

/**
 * The throttle's name for an account: its id when the login names one, else
 * the normalized login. Unknown and known logins are counted alike, so a 429
 * says nothing about which accounts exist.
 */
export const accountOf = (userId: string | undefined, login: string): string =>
  userId === undefined ? `login:${login.trim().toLowerCase()}` : `user:${userId}`

/** 429 with an integer Retry-After (RFC 9110 §10.2.3) of at least one second. */
function tooMany(ms: number): KeygateError {
  const seconds = Math.max(1, Math.ceil(ms / 1000))
  return new KeygateError('RATE_LIMITED', { headers: { 'Retry-After': String(seconds) } })
}

const isTaken = (err: unknown) =>
  err instanceof KeygateError && (err.code === 'EMAIL_TAKEN' || err.code === 'USERNAME_TAKEN')

// A wrong second-factor code counts as a wrong password does (SPEC §9).
const WRONG_GUESSES = new Set([
  'INVALID_CREDENTIALS',
  'WRONG_PASSWORD',
  'WRONG_CODE',
  'INVALID_MFA',
])
const isWrongPassword = (err: unknown) => err instanceof KeygateError && WRONG_GUESSES.has(err.code)

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
  login: (_account, _ip, check) => check(),
  signup: (_ip, create) => create(),
  resetMail: async () => true,
  write: async () => {},
}

export function createThrottle(deps: {
  settings: RateLimitConfig
  store: RateLimitStore
  clock: Clock
  /** keys the store's key names (server-secret.ts); random when not given */
  secret?: Uint8Array
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
  const secret = deps.secret ?? randomBytes(32)
  // Key names are an HMAC under the server secret: neither Redis nor a memory
  // dump lists the logins or addresses tried, and without the secret the
  // names cannot be tested against a guessed email or address either.
  const key = (kind: string, ...parts: string[]) =>
    `${kind}:${createHmac('sha256', secret).update(parts.join('\0')).digest('base64url').slice(0, 22)}`

  return {
    async request(ip) {
      const now = clock.now().getTime()
      const limit = settings.clientRequestsPerMinute
      const r = await store.hit(key('rq', clientGroup(ip)), limit, MINUTE, now)
      if (!r.allowed) throw tooMany(r.resetAt - now)
    },

    async login(account, ip, check, device) {
      const pair = key('ac', account, clientGroup(ip))
      const now = clock.now().getTime()
      // OWASP's device cookie: a client that signed in to this account before
      // spends its own failure budget instead of the account's, so an attacker
      // who exhausts the account's ceiling does not lock the owner out. The
      // per-client backoff below applies to it all the same.
      const accountCeiling = key('a', account)
      let ceiling = accountCeiling
      if (device !== undefined) {
        const own = key('dv', account, device)
        const d = await store.hit(own, settings.accountClientFailures * 2, HOUR, now)
        if (d.allowed) ceiling = own
      }
      // Attempts are counted before the password is checked, so a burst of
      // parallel guesses cannot all slip in before the first failure lands.
      if (ceiling === accountCeiling) {
        const c = await store.hit(ceiling, settings.accountFailuresPerHour, HOUR, now)
        if (!c.allowed) throw tooMany(c.resetAt - now)
      }
      const backoff = await store.attempt(pair, rule, now)
      if (!backoff.allowed) {
        await store.unhit(ceiling, now)
        // While locked even the right password is refused: guessing gains nothing.
        throw tooMany(backoff.lockedUntil - now)
      }
      try {
        const result = await check()
        // The owner got in: their client starts afresh, and the attempt leaves the ceiling.
        await Promise.all([store.reset(pair), store.unhit(ceiling, now)])
        return result
      } catch (err) {
        if (!isWrongPassword(err)) await store.unhit(ceiling, now)
        throw err
      }
    },

    async signup(ip, create) {
      const k = key('su', clientGroup(ip))
      const now = clock.now().getTime()
      // Only 409s stay counted: they are the one answer that tells whether an
      // email is registered, so probing through signup is what this limits.
      const r = await store.hit(k, settings.signupConflictsPerHour, HOUR, now)
      if (!r.allowed) throw tooMany(r.resetAt - now)
      try {
        const result = await create()
        await store.unhit(k, now)
        return result
      } catch (err) {
        if (!isTaken(err)) await store.unhit(k, now)
        throw err
      }
    },

    async resetMail(userId) {
      const now = clock.now().getTime()
      const interval = settings.resetMailIntervalSeconds * 1000
      const spaced = await store.hit(key('rm', userId), 1, interval, now)
      if (!spaced.allowed) return false
      const hourly = await store.hit(key('rmh', userId), settings.resetMailsPerHour, HOUR, now)
      return hourly.allowed
    },

    async write(userId) {
      const now = clock.now().getTime()
      const r = await store.hit(key('w', userId), settings.postsPerMinute, MINUTE, now)
      if (!r.allowed) throw tooMany(r.resetAt - now)
    },
  }
}
