import type { Kysely, Selectable } from 'kysely'
import type { ConsentsTable, DB } from '../../db/schema.js'
import type { ConnectedApp, Consent } from '../../domain/consent.js'
import { formatScope, type Scope, scopesIn } from '../../domain/scopes.js'
import { iso, toDate } from '../support/row.js'

const toConsent = (row: Selectable<ConsentsTable>): Consent => ({
  user_id: row.user_id,
  client_id: row.client_id,
  scope: scopesIn(row.scope),
  created_at: toDate(row.created_at),
  updated_at: toDate(row.updated_at),
})

export function createConsentsRepo(db: Kysely<DB>) {
  return {
    async find(userId: string, clientId: string): Promise<Consent | undefined> {
      const row = await db
        .selectFrom('consents')
        .selectAll()
        .where('user_id', '=', userId)
        .where('client_id', '=', clientId)
        .executeTakeFirst()
      return row && toConsent(row)
    },

    /** Inserts a first consent; false when one already exists (a concurrent grant won). */
    async insert(userId: string, clientId: string, scope: readonly Scope[], now: Date) {
      const row = await db
        .insertInto('consents')
        .values({
          user_id: userId,
          client_id: clientId,
          scope: formatScope(scope),
          created_at: iso(now),
          updated_at: iso(now),
        })
        .onConflict((oc) => oc.columns(['user_id', 'client_id']).doNothing())
        .returning('user_id')
        .executeTakeFirst()
      return row !== undefined
    },

    /**
     * Replaces the scope only if it is still `previous` (compare-and-set), so
     * two grants at once cannot drop each other's scopes; false when it moved.
     */
    async replaceScope(c: Consent, scope: readonly Scope[], now: Date): Promise<boolean> {
      const r = await db
        .updateTable('consents')
        .set({ scope: formatScope(scope), updated_at: iso(now) })
        .where('user_id', '=', c.user_id)
        .where('client_id', '=', c.client_id)
        .where('scope', '=', formatScope(c.scope))
        .executeTakeFirst()
      return r.numUpdatedRows > 0n
    },

    /** The user's consents with their clients' names, most recently changed first. */
    async listForUser(userId: string): Promise<ConnectedApp[]> {
      const rows = await db
        .selectFrom('consents')
        .innerJoin('clients', 'clients.client_id', 'consents.client_id')
        .selectAll('consents')
        .select('clients.name')
        .where('consents.user_id', '=', userId)
        .orderBy('consents.updated_at', 'desc')
        .orderBy('consents.client_id')
        .execute()
      return rows.map((row) => ({ ...toConsent(row), name: row.name }))
    },

    async delete(userId: string, clientId: string): Promise<boolean> {
      const r = await db
        .deleteFrom('consents')
        .where('user_id', '=', userId)
        .where('client_id', '=', clientId)
        .executeTakeFirst()
      return r.numDeletedRows > 0n
    },
  }
}

export type ConsentsRepo = ReturnType<typeof createConsentsRepo>
