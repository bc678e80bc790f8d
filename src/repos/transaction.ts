import type { Kysely } from 'kysely'
import type { DB } from '../db/schema.js'
import { createAuditEventsRepo } from './audit-events.js'
import { createClientsRepo } from './clients.js'
import { createConsentsRepo } from './consents.js'
import { createEmailTokensRepo, type EmailTokensRepo } from './email-tokens.js'
import { createFactorsRepo } from './factors.js'
import { createPasswordResetsRepo } from './password-resets.js'
import { createRefreshTokensRepo } from './refresh-tokens.js'
import { createSessionsRepo } from './sessions.js'
import { createUsersRepo } from './users.js'

/** The repositories bound to one open transaction. */
export interface TxRepos {
  users: ReturnType<typeof createUsersRepo>
  sessions: ReturnType<typeof createSessionsRepo>
  passwordResets: ReturnType<typeof createPasswordResetsRepo>
  clients: ReturnType<typeof createClientsRepo>
  refreshTokens: ReturnType<typeof createRefreshTokensRepo>
  /** `audit.record(event, now)`: the event commits or rolls back with the change */
  audit: ReturnType<typeof createAuditEventsRepo>
  emailTokens: EmailTokensRepo
  factors: ReturnType<typeof createFactorsRepo>
  consents: ReturnType<typeof createConsentsRepo>
}

export type Transact = <T>(work: (repos: TxRepos) => Promise<T>) => Promise<T>

/**
 * Runs `work` in one transaction: committed when it resolves, rolled back when
 * it throws. Inside, use only the repos handed in (SQLite has one connection,
 * so a query on the outer handle would wait for this transaction forever).
 */
export function createTransact(db: Kysely<DB>): Transact {
  return (work) =>
    db.transaction().execute((trx) =>
      work({
        users: createUsersRepo(trx),
        sessions: createSessionsRepo(trx),
        passwordResets: createPasswordResetsRepo(trx),
        clients: createClientsRepo(trx),
        refreshTokens: createRefreshTokensRepo(trx),
        audit: createAuditEventsRepo(trx),
        emailTokens: createEmailTokensRepo(trx),
        factors: createFactorsRepo(trx),
        consents: createConsentsRepo(trx),
      }),
    )
}
