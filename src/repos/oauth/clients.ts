import type { Kysely, Selectable } from 'kysely'
import type { ClientsTable, DB } from '../../db/schema.js'
import type { Client, GrantType } from '../../domain/client.js'
import { bit, iso, toBool, toDate } from '../support/row.js'

/** A client as stored: the domain client and the hash of its secret (confidential only). */
export interface StoredClient {
  client: Client
  secretHash: string | null
}

const list = (v: string): string[] => {
  const parsed: unknown = JSON.parse(v)
  return Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === 'string') : []
}

function toStored(row: Selectable<ClientsTable>): StoredClient {
  return {
    client: {
      client_id: row.client_id,
      name: row.name,
      type: row.type,
      redirect_uris: list(row.redirect_uris),
      post_logout_redirect_uris: list(row.post_logout_redirect_uris),
      grant_types: list(row.grant_types) as GrantType[],
      scopes: list(row.scopes),
      first_party: toBool(row.first_party),
      created_at: toDate(row.created_at),
      updated_at: toDate(row.updated_at),
    },
    secretHash: row.secret_hash,
  }
}

const columns = (c: Client) => ({
  name: c.name,
  redirect_uris: JSON.stringify(c.redirect_uris),
  post_logout_redirect_uris: JSON.stringify(c.post_logout_redirect_uris),
  grant_types: JSON.stringify(c.grant_types),
  scopes: JSON.stringify(c.scopes),
  first_party: bit(c.first_party),
  updated_at: iso(c.updated_at),
})

export function createClientsRepo(db: Kysely<DB>) {
  return {
    async insert(c: Client, secretHash: string | null): Promise<void> {
      await db
        .insertInto('clients')
        .values({
          client_id: c.client_id,
          type: c.type,
          secret_hash: secretHash,
          created_at: iso(c.created_at),
          ...columns(c),
        })
        .execute()
    },

    async find(clientId: string): Promise<StoredClient | undefined> {
      const row = await db
        .selectFrom('clients')
        .selectAll()
        .where('client_id', '=', clientId)
        .executeTakeFirst()
      return row && toStored(row)
    },

    /** Every stored client, oldest first, except those named in `except`. */
    async list(except: string[] = []): Promise<Client[]> {
      let q = db.selectFrom('clients').selectAll().orderBy('created_at').orderBy('client_id')
      if (except.length > 0) q = q.where('client_id', 'not in', except)
      return (await q.execute()).map((row) => toStored(row).client)
    },

    /** Writes the client's settings (not its id, type or secret); false when it is gone. */
    async update(c: Client): Promise<boolean> {
      const r = await db
        .updateTable('clients')
        .set(columns(c))
        .where('client_id', '=', c.client_id)
        .executeTakeFirst()
      return r.numUpdatedRows > 0n
    },

    async setSecretHash(clientId: string, secretHash: string, now: Date): Promise<boolean> {
      const r = await db
        .updateTable('clients')
        .set({ secret_hash: secretHash, updated_at: iso(now) })
        .where('client_id', '=', clientId)
        .executeTakeFirst()
      return r.numUpdatedRows > 0n
    },

    async delete(clientId: string): Promise<boolean> {
      const r = await db.deleteFrom('clients').where('client_id', '=', clientId).executeTakeFirst()
      return r.numDeletedRows > 0n
    },
  }
}

export type ClientsRepo = ReturnType<typeof createClientsRepo>
