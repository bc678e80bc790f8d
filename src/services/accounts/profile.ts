import type { AuthContext, ClientContext } from '../../domain/session.js'
import type { Clock } from '../../domain/time.js'
import type { User } from '../../domain/user.js'
import { KeygateError } from '../../errors.js'
import type { Transact } from '../../repos/transaction.js'
import type { UserChanges } from '../../repos/users.js'
import type { PasswordHasher } from '../crypto/passwords.js'
import { accountOf, type Throttle } from '../throttle/throttle.js'
import { lockTargetKeepingASuperuser } from './last-superuser.js'
import type { PasswordPolicy } from './password-policy.js'
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
}

/** What a signed-in user does to their own account. */
export function createAccountService(deps: AccountServiceDeps) {
  const { clock, hasher, policy, transact, throttle } = deps

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
     * A 409 tells whether an email or username is registered, so it is
     * counted per client exactly as signup's are.
     */
    async updateProfile(
      auth: AuthContext,
      input: ProfileChanges,
      ctx: ClientContext = {},
    ): Promise<User> {
      const { user } = auth
      const changes: UserChanges = {}
      const email = input.email?.trim()
      if (email !== undefined && email !== user.email) {
        await checkPassword(user, input.current_password, ctx)
        changes.email = email
      }
      if (input.username !== undefined) changes.username = input.username?.trim() || null
      if (Object.keys(changes).length === 0) return user
      const now = clock.now()
      const save = () =>
        transact(async (r) => {
          const updated = await r.users.update(user.id, changes, now)
          if (!updated) throw new KeygateError('USER_NOT_FOUND')
          // A reset link already mailed went to the old address.
          if (changes.email !== undefined) await r.passwordResets.deleteForUser(user.id)
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
      })
    },

    /** Deletes the account with its sessions and posts, unless it is the last active superuser. */
    async deleteSelf(auth: AuthContext, password: string, ctx: ClientContext = {}): Promise<void> {
      await checkPassword(auth.user, password, ctx)
      await transact(async (r) => {
        await lockTargetKeepingASuperuser(r, auth.user.id, true)
        await r.users.delete(auth.user.id, clock.now())
      })
    },
  }
}
