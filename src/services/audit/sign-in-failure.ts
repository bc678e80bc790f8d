import type { AuditSource, SignInFailure } from '../../domain/audit.js'
import type { User } from '../../domain/user.js'
import { KeygateError } from '../../errors.js'
import type { AuditEventsRepo } from '../../repos/audit-events.js'
import { clientGroup } from '../throttle/client-group.js'

/** The audited reason of a failed sign-in, or undefined for errors that are not a refusal. */
function reasonOf(err: unknown, user: User | undefined): SignInFailure | undefined {
  if (!(err instanceof KeygateError)) return undefined
  if (err.code === 'RATE_LIMITED') return 'throttled'
  if (err.code === 'INACTIVE_USER') return 'inactive'
  if (err.code === 'INVALID_CREDENTIALS') return user ? 'wrong_password' : 'unknown_account'
  // A wrong or replayed code, or a dead mfa_token (then the account may be unknown).
  if (err.code === 'INVALID_MFA') return 'second_factor_failed'
  return undefined
}

/**
 * Records a refused sign-in, then rethrows the refusal. Attempts are folded
 * into one row per account (or, for unknown accounts, per client alone: the
 * typed login is never stored, it may be a mistyped password), client
 * address group, reason and minute, counted in `count`: a spray of guesses
 * writes a bounded number of rows however many it sends.
 */
export async function signInFailure(
  audit: AuditEventsRepo,
  user: User | undefined,
  source: AuditSource,
  now: Date,
  err: unknown,
): Promise<never> {
  const reason = reasonOf(err, user)
  if (reason !== undefined) {
    const foldKey = `${user?.id ?? '-'}\n${clientGroup(source.ip)}\n${reason}`
    const event = { type: 'sign_in_failed' as const, userId: user?.id ?? null, source }
    await audit.recordFolded({ ...event, details: { reason } }, foldKey, now)
  }
  throw err
}
