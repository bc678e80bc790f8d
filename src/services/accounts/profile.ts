import type { AuthContext } from '../../domain/session.js'
import type { Clock } from '../../domain/time.js'
import type { User } from '../../domain/user.js'
import { KeygateError } from '../../errors.js'
import type { Transact } from '../../repos/transaction.js'
import type { UserChanges } from '../../repos/users.js'
import type { PasswordHasher } from '../crypto/passwords.js'
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
}

/** What a signed-in user does to their own account. */
export function createAccountService(deps: AccountServiceDeps) {
  const { clock, hasher, policy, transact } = deps

  async function checkPassword(user: User, password: string | undefined): Promise<void> {
    if (password === undefined) throw new KeygateError('CURRENT_PASSWORD_REQUIRED')
    const { ok } = await hasher.verify(user.hashed_password, password)
    if (!ok) throw new KeygateError('WRONG_PASSWORD')
  }

  return {
    /** Username and email. A new email needs the current password (ASVS 7.5.1). */
    async updateProfile(auth: AuthContext, input: ProfileChanges): Promise<User> {
      const { user } = auth
      const changes: UserChanges = {}
      const email = input.email?.trim()
      if (email !== undefined && email !== user.email) {
        await checkPassword(user, input.current_password)
        changes.email = email
      }
      if (input.username !== undefined) changes.username = input.username?.trim() || null
      if (Object.keys(changes).length === 0) return user
      const now = clock.now()
      return transact(async (r) => {
        const updated = await r.users.update(user.id, changes, now)
        if (!updated) throw new KeygateError('USER_NOT_FOUND')
        // A reset link already mailed went to the old address.
        if (changes.email !== undefined) await r.passwordResets.deleteForUser(user.id)
        return updated
      }).catch(rethrowTaken)
    },

    /** Sets a new password and signs out every other session (SPEC §3). */
    async changePassword(auth: AuthContext, current: string, next: string): Promise<void> {
      policy.check(next, 'new_password')
      await checkPassword(auth.user, current)
      const hashed = await hasher.hash(next)
      const now = clock.now()
      await transact(async (r) => {
        await r.users.update(auth.user.id, { hashed_password: hashed }, now)
        await r.sessions.revokeAllForUser(auth.user.id, now, auth.sessionId)
        // A reset link issued before the change must not undo it.
        await r.passwordResets.deleteForUser(auth.user.id)
      })
    },

    /** Deletes the account with its sessions and posts, unless it is the last active superuser. */
    async deleteSelf(auth: AuthContext, password: string): Promise<void> {
      await checkPassword(auth.user, password)
      await transact(async (r) => {
        await lockTargetKeepingASuperuser(r, auth.user.id, true)
        await r.users.delete(auth.user.id)
      })
    },
  }
}
