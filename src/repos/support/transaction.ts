import type { Kysely } from 'kysely'
import type { DB } from '../../db/schema.js'
import { createEmailTokensRepo, type EmailTokensRepo } from '../accounts/email-tokens.js'
import { createFactorsRepo } from '../accounts/factors.js'
import { createPasskeysRepo, type PasskeysRepo } from '../accounts/passkeys.js'
import { createPasswordResetsRepo } from '../accounts/password-resets.js'
import { createUsersRepo } from '../accounts/users.js'
import { createAuditEventsRepo } from '../audit-events.js'
import { createAuthorizationCodesRepo } from '../oauth/authorization-codes.js'
import { createClientsRepo } from '../oauth/clients.js'
import { createConsentsRepo } from '../oauth/consents.js'
import { type Change, type RepoEvents, silentEvents } from '../sessions/changes.js'
import { createRefreshTokensRepo } from '../sessions/refresh-tokens.js'
import { createRevocationsRepo } from '../sessions/revocations.js'
import { createSessionsRepo } from '../sessions/sessions.js'

/** The repositories bound to one open transaction. */
export interface TxRepos {
  users: ReturnType<typeof createUsersRepo>
  sessions: ReturnType<typeof createSessionsRepo>
  passwordResets: ReturnType<typeof createPasswordResetsRepo>
  authorizationCodes: ReturnType<typeof createAuthorizationCodesRepo>
  clients: ReturnType<typeof createClientsRepo>
  refreshTokens: ReturnType<typeof createRefreshTokensRepo>
  /** `audit.record(event, now)`: the event commits or rolls back with the change */
  audit: ReturnType<typeof createAuditEventsRepo>
  emailTokens: EmailTokensRepo
  factors: ReturnType<typeof createFactorsRepo>
  /**
   * The revocation feed. A path that ends sessions or a user's tokens other
   * than through `sessions.revoke*` (which record themselves) or
   * `users.delete` adds one line: `await r.revocations.record({ sid } | { sub }, now)`.
   */
  revocations: ReturnType<typeof createRevocationsRepo>
  passkeys: PasskeysRepo
  consents: ReturnType<typeof createConsentsRepo>
}

export type Transact = <T>(work: (repos: TxRepos) => Promise<T>) => Promise<T>

/**
 * Runs `work` in one transaction: committed when it resolves, rolled back when
 * it throws. Inside, use only the repos handed in (SQLite has one connection,
 * so a query on the outer handle would wait for this transaction forever).
 * What the repos report to `events` is delivered after the commit, and not at
 * all after a rollback.
 */
export function createTransact(db: Kysely<DB>, events: RepoEvents = silentEvents): Transact {
  return async (work) => {
    const changes: Change[] = []
    const collect: RepoEvents = {
      coverSeconds: events.coverSeconds,
      committed: (c) => {
        changes.push(...c)
      },
    }
    const result = await db.transaction().execute((trx) =>
      work({
        users: createUsersRepo(trx, collect),
        sessions: createSessionsRepo(trx, collect),
        passwordResets: createPasswordResetsRepo(trx),
        authorizationCodes: createAuthorizationCodesRepo(trx),
        clients: createClientsRepo(trx),
        refreshTokens: createRefreshTokensRepo(trx),
        audit: createAuditEventsRepo(trx),
        emailTokens: createEmailTokensRepo(trx),
        factors: createFactorsRepo(trx),
        revocations: createRevocationsRepo(trx, collect),
        passkeys: createPasskeysRepo(trx),
        consents: createConsentsRepo(trx),
      }),
    )
    if (changes.length > 0) await events.committed(changes)
    return result
  }
}
