import type { Clock } from '../../domain/time.js'
import type { User } from '../../domain/user.js'
import { KeygateError } from '../../errors.js'
import type { SessionsRepo } from '../../repos/sessions.js'
import type { Transact } from '../../repos/transaction.js'
import type { UsersRepo } from '../../repos/users.js'
import { lockTargetKeepingASuperuser } from './last-superuser.js'

export interface AdminChanges {
  is_active?: boolean
  is_superuser?: boolean
}

export interface AdminServiceDeps {
  clock: Clock
  users: UsersRepo
  sessions: SessionsRepo
  transact: Transact
}

/** What superusers do to other accounts. The routes' guard has already checked who asks. */
export function createAdminService(deps: AdminServiceDeps) {
  const { clock, users, sessions, transact } = deps

  async function get(id: string): Promise<User> {
    const user = await users.findById(id)
    if (!user) throw new KeygateError('USER_NOT_FOUND')
    return user
  }

  return {
    list: (limit: number, offset: number) => users.list(limit, offset),

    get,

    async update(id: string, changes: AdminChanges): Promise<User> {
      const now = clock.now()
      return transact(async (r) => {
        const removes = changes.is_active === false || changes.is_superuser === false
        await lockTargetKeepingASuperuser(r, id, removes)
        const updated = await r.users.update(id, changes, now)
        if (!updated) throw new KeygateError('USER_NOT_FOUND')
        // The guard already refuses an inactive user's tokens; revoking the
        // sessions too means a later reactivation does not bring them back.
        if (changes.is_active === false) await r.sessions.revokeAllForUser(id, now)
        return updated
      })
    },

    async remove(id: string): Promise<void> {
      await transact(async (r) => {
        await lockTargetKeepingASuperuser(r, id, true)
        // Sessions, refresh tokens, posts and reset tokens go by ON DELETE CASCADE.
        await r.users.delete(id, clock.now())
      })
    },

    async revokeSessions(id: string): Promise<void> {
      await get(id)
      await sessions.revokeAllForUser(id, clock.now())
    },
  }
}
