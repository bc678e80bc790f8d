import type { User } from '../../domain/user.js'
import { KeygateError } from '../../errors.js'
import type { TxRepos } from '../../repos/support/transaction.js'

/**
 * Reads `userId` inside the caller's transaction after locking the active
 * superusers, and refuses with 409 when the change (which `removes` an active
 * superuser if the user is one) would take away the last one. The lock (PostgreSQL) or the single writer (SQLite) keeps the
 * check true until the change commits.
 */
export async function lockTargetKeepingASuperuser(
  repos: TxRepos,
  userId: string,
  removes: boolean,
): Promise<User> {
  const superusers = await repos.users.lockActiveSuperuserIds()
  const user = await repos.users.findById(userId)
  if (!user) throw new KeygateError('USER_NOT_FOUND')
  if (superusers.includes(user.id) && superusers.length <= 1 && removes) {
    throw new KeygateError('LAST_SUPERUSER')
  }
  return user
}
