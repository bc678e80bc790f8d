import { KeygateError } from '../../errors.js'
import type { AuthService } from '../sessions/authentication.js'
import type { RateLimitStore } from '../throttle/memory-store.js'
import type { Metrics, SignInOutcome, ThrottleRule } from './metrics.js'

// These wrappers observe services from outside, so the services stay free of
// metrics code and a test app without metrics runs exactly the same code.

/**
 * Unknown account and wrong password are one outcome, as they are one answer
 * on the wire (SPEC §3): dashboards are read by more people than the audit
 * log, and on a quiet instance a separate "unknown account" counter would
 * tell anyone watching it whether the email they just tried exists.
 */
function outcomeOf(err: unknown): SignInOutcome {
  if (!(err instanceof KeygateError)) return 'error'
  if (err.code === 'INVALID_CREDENTIALS') return 'invalid_credentials'
  if (err.code === 'INACTIVE_USER') return 'inactive'
  if (err.code === 'RATE_LIMITED') return 'throttled'
  return 'error'
}

/**
 * Counts every password sign-in: `login` serves the JSON login and the
 * password grant. Another sign-in entry point of the auth service (a hosted
 * sign-in page's) is counted by wrapping it the same way here.
 */
export function countSignIns(auth: AuthService, metrics: Metrics | undefined): AuthService {
  if (!metrics) return auth
  const counted =
    <A extends unknown[], R>(signIn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        const result = await signIn(...args)
        metrics.signIn('success')
        return result
      } catch (err) {
        metrics.signIn(outcomeOf(err))
        throw err
      }
    }
  return { ...auth, login: counted(auth.login), verifyLogin: counted(auth.verifyLogin) }
}

// The throttle names its counters by rule (services/throttle/throttle.ts); the
// prefix is all that is read, never the account digest or client after it.
const RULES: Record<string, ThrottleRule> = {
  rq: 'client_requests',
  a: 'account_hourly',
  ac: 'account_client_backoff',
  su: 'signup_conflicts',
  dv: 'known_device_hourly',
  rm: 'reset_mail_interval',
  rmh: 'reset_mail_hourly',
  w: 'post_writes',
}

/** Counts each allow/refuse decision of the throttle's store, by rule. */
export function countThrottleDecisions(
  store: RateLimitStore,
  metrics: Metrics | undefined,
): RateLimitStore {
  if (!metrics) return store
  const record = (key: string, allowed: boolean) => {
    const rule = RULES[key.slice(0, key.indexOf(':'))]
    if (rule) metrics.throttleDecision(rule, allowed)
  }
  return {
    async hit(key, limit, windowMs, now) {
      const result = await store.hit(key, limit, windowMs, now)
      record(key, result.allowed)
      return result
    },
    async attempt(key, rule, now) {
      const result = await store.attempt(key, rule, now)
      record(key, result.allowed)
      return result
    },
    unhit: (key, now) => store.unhit(key, now),
    reset: (key) => store.reset(key),
    ping: () => store.ping(),
    close: () => store.close(),
  }
}
