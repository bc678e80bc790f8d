import type { AuthContext, ClientContext } from '../../domain/session.js'
import type { Clock } from '../../domain/time.js'
import { normalizeEmail, type User } from '../../domain/user.js'
import { KeygateError } from '../../errors.js'
import type { UserChanges } from '../../repos/accounts/users.js'
import type { Transact } from '../../repos/support/transaction.js'
import type { PasswordHasher } from '../crypto/passwords.js'
import { accountOf, type Throttle } from '../throttle/throttle.js'
import type { EmailVerificationService } from './email-verification.js'
import { lockTargetKeepingASuperuser } from './last-superuser.js'
import type { PasswordPolicy } from './password-policy.js'
import type { ErrorLogger } from './password-reset.js'
import { rethrowTaken } from './users.js'

export interface ProfileChanges {
  email?: string
  username?: string | null
  current_password?: string
}

export interface AccountServiceDeps {
  clock: Clock
  hasher: PasswordHasher
  policy: PasswordPolicy
  transact: Transact
  throttle: Throttle
  /** a new email goes through a mailed link when SMTP is configured */
  emailVerification: Pick<EmailVerificationService, 'mails' | 'requestChange'>
}

/** What a signed-in user does to their own account. */
export function createAccountService(deps: AccountServiceDeps) {
  const { clock, hasher, policy, transact, throttle, emailVerification } = deps

  /**
   * Every password check behind the bearer goes through the sign-in throttle,
   * under the same account budget: a stolen access token must not become an
   * unthrottled password oracle (a right guess would turn a short-lived token
   * into a takeover).
   */
  async function checkPassword(
    user: User,
    password: string | undefined,
    ctx: ClientContext,
  ): Promise<void> {
    if (password === undefined) throw new KeygateError('CURRENT_PASSWORD_REQUIRED')
    await throttle.login(accountOf(user.id, ''), ctx.ip, async () => {
      const { ok } = await hasher.verify(user.hashed_password, password)
      if (!ok) throw new KeygateError('WRONG_PASSWORD')
    })
  }

  return {
    /**
     * Username and email. A new email needs the current password (ASVS 7.5.1).
     * With SMTP it is not changed here: a link goes to the new address and the
     * change happens when it is followed (SPEC §9); without SMTP it changes at
     * once, unverified. A 409 tells whether an email or username is
     * registered, so it is counted per client exactly as signup's are.
     */
    async updateProfile(
      auth: AuthContext,
      input: ProfileChanges,
      ctx: ClientContext = {},
      log?: ErrorLogger,
    ): Promise<User> {
      const { user } = auth
      const changes: UserChanges = {}
      const email = input.email?.trim()
      let mailChange: string | undefined
      if (email !== undefined && email !== user.email) {
        await checkPassword(user, input.current_password, ctx)
        if (emailVerification.mails) mailChange = email
        else {
          changes.email = email
          // Only a changed case is the same, proven address.
          if (normalizeEmail(email) !== normalizeEmail(user.email)) changes.email_verified = false
        }
      }
      if (mailChange !== undefined) {
        const to = mailChange
        await throttle.signup(ctx.ip, () => emailVerification.requestChange(user, to, log, ctx))
      }
      if (input.username !== undefined) changes.username = input.username?.trim() || null
      if (Object.keys(changes).length === 0) return user
      const now = clock.now()
      const save = () =>
        transact(async (r) => {
          const updated = await r.users.update(user.id, changes, now)
          if (!updated) throw new KeygateError('USER_NOT_FOUND')
          // Links already mailed went to the old address.
          if (changes.email !== undefined) {
            await r.passwordResets.deleteForUser(user.id)
            await r.emailTokens.deleteForUser(user.id, 'verify')
            await r.audit.record({ type: 'email_changed', userId: user.id, source: ctx }, now)
          }
          if (changes.username !== undefined) {
            const details = { username: changes.username }
            await r.audit.record(
              { type: 'profile_updated', userId: user.id, source: ctx, details },
              now,
            )
          }
          return updated
        }).catch(rethrowTaken)
      return throttle.signup(ctx.ip, save)
    },

    /**
     * Sets a new password and signs out every other session (SPEC §3). The
     * caller's own session may be shared too (a refresh token replayed by a
     * thief), so it keeps only the caller's access token, until it expires:
     * its refresh tokens go, and whoever holds them signs in with the new password.
     */
    async changePassword(
      auth: AuthContext,
      current: string,
      next: string,
      ctx: ClientContext = {},
    ): Promise<void> {
      policy.check(next, 'new_password')
      await checkPassword(auth.user, current, ctx)
      const hashed = await hasher.hash(next)
      const now = clock.now()
      await transact(async (r) => {
        await r.users.update(auth.user.id, { hashed_password: hashed }, now)
        await r.sessions.revokeAllForUser(auth.user.id, now, auth.sessionId)
        if (auth.tokenId !== undefined && auth.tokenExpiresAt !== undefined) {
          const until = new Date(auth.tokenExpiresAt * 1000)
          await r.sessions.pinToToken(auth.sessionId, auth.tokenId, until, now)
        } else {
          await r.sessions.revoke(auth.sessionId, now)
        }
        // A reset link issued before the change must not undo it.
        await r.passwordResets.deleteForUser(auth.user.id)
        await r.audit.record({ type: 'password_changed', userId: auth.user.id, source: ctx }, now)
      })
    },

    /** Deletes the account with its sessions and posts, unless it is the last active superuser. */
    async deleteSelf(auth: AuthContext, password: string, ctx: ClientContext = {}): Promise<void> {
      await checkPassword(auth.user, password, ctx)
      await transact(async (r) => {
        await lockTargetKeepingASuperuser(r, auth.user.id, true)
        await r.users.delete(auth.user.id, clock.now())
        const event = { type: 'user_deleted' as const, userId: auth.user.id, source: ctx }
        await r.audit.record({ ...event, details: { via: 'self' } }, clock.now())
      })
    },
  }
}

export type AccountService = ReturnType<typeof createAccountService>
