import type { AuditEventType, AuditSource } from '../../domain/audit.js'
import type { Clock } from '../../domain/time.js'
import type { User } from '../../domain/user.js'
import { KeygateError } from '../../errors.js'
import type { UsersRepo } from '../../repos/accounts/users.js'
import type { Transact } from '../../repos/support/transaction.js'
import { lockTargetKeepingASuperuser } from './last-superuser.js'

export interface AdminChanges {
  is_active?: boolean
  is_superuser?: boolean
}

export interface AdminServiceDeps {
  clock: Clock
  users: UsersRepo
  transact: Transact
}

/** The events a PATCH records: one per flag it sets. */
function changeEvents(changes: AdminChanges): AuditEventType[] {
  const events: AuditEventType[] = []
  if (changes.is_active !== undefined)
    events.push(changes.is_active ? 'user_reactivated' : 'user_deactivated')
  if (changes.is_superuser !== undefined)
    events.push(changes.is_superuser ? 'user_promoted' : 'user_demoted')
  return events
}

/** What superusers do to other accounts (`by` names the acting admin as actorId). The routes' guard has already checked who asks. */
export function createAdminService(deps: AdminServiceDeps) {
  const { clock, users, transact } = deps

  async function get(id: string): Promise<User> {
    const user = await users.findById(id)
    if (!user) throw new KeygateError('USER_NOT_FOUND')
    return user
  }

  return {
    list: (limit: number, offset: number) => users.list(limit, offset),

    /** Users whose email or username contains `query` (the admin console's search). */
    search: (query: string, limit: number, offset: number) => users.search(query, limit, offset),

    get,

    async update(id: string, changes: AdminChanges, by: AuditSource = {}): Promise<User> {
      const now = clock.now()
      return transact(async (r) => {
        const removes = changes.is_active === false || changes.is_superuser === false
        await lockTargetKeepingASuperuser(r, id, removes)
        const updated = await r.users.update(id, changes, now)
        if (!updated) throw new KeygateError('USER_NOT_FOUND')
        // The guard already refuses an inactive user's tokens; revoking the
        // sessions too means a later reactivation does not bring them back.
        if (changes.is_active === false) await r.sessions.revokeAllForUser(id, now)
        for (const type of changeEvents(changes))
          await r.audit.record({ type, userId: id, source: by }, now)
        return updated
      })
    },

    async remove(id: string, by: AuditSource = {}): Promise<void> {
      await transact(async (r) => {
        await lockTargetKeepingASuperuser(r, id, true)
        // Sessions, refresh tokens, posts and reset tokens go by ON DELETE CASCADE.
        await r.users.delete(id, clock.now())
        const details = { via: 'admin' }
        await r.audit.record({ type: 'user_deleted', userId: id, source: by, details }, clock.now())
      })
    },

    async revokeSessions(id: string, by: AuditSource = {}): Promise<void> {
      await get(id)
      const now = clock.now()
      await transact(async (r) => {
        await r.sessions.revokeAllForUser(id, now)
        await r.audit.record({ type: 'sessions_revoked_by_admin', userId: id, source: by }, now)
      })
    },
  }
}
