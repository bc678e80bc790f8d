import type { Kysely } from 'kysely'
import type { DB } from '../../db/schema.js'

/** A session (`sid`) or every session of a user (`sub`) whose cached liveness is stale. */
export type Change = { sid: string } | { sub: string }

/**
 * What repositories tell the rest of Keygate about the writes that affect a
 * bearer token's liveness. `committed` is called only once the write is
 * durable: right after it on the outer handle, after the commit inside
 * `transact` (which collects them), so no listener re-reads the old state.
 */
export interface RepoEvents {
  /** seconds a revocation must be published for: the access token lifetime plus clock skew */
  coverSeconds: number
  /** resolves once other instances have been sent the changes (bounded), so a revocation answers after */
  committed(changes: Change[]): Promise<void> | void
}

/** For repos built without a listener (tools, tests): revocations cover a day, nobody is told. */
export const silentEvents: RepoEvents = { coverSeconds: 24 * 3600, committed() {} }

/**
 * Runs `work` atomically: in the caller's transaction when there is one, else
 * in its own, so a revocation and its feed entry are never written apart.
 */
export function atomically<T>(db: Kysely<DB>, work: (db: Kysely<DB>) => Promise<T>): Promise<T> {
  return db.isTransaction ? work(db) : db.transaction().execute(work)
}
