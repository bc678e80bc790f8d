import type { Kysely, Selectable } from 'kysely'
import type { DB, PasskeysTable } from '../../db/schema.js'
import type { NewPasskey, Passkey } from '../../domain/passkey.js'
import { bit, iso, toBool, toDate } from '../support/row.js'

function toPasskey(row: Selectable<PasskeysTable>): Passkey {
  return {
    id: row.id,
    user_id: row.user_id,
    credential_id: row.credential_id,
    public_key: new Uint8Array(Buffer.from(row.public_key, 'base64url')),
    counter: Number(row.counter),
    transports: row.transports ? (JSON.parse(row.transports) as string[]) : [],
    device_type: row.device_type === 'multiDevice' ? 'multiDevice' : 'singleDevice',
    backed_up: toBool(row.backed_up),
    name: row.name,
    created_at: toDate(row.created_at),
    last_used_at: row.last_used_at === null ? null : toDate(row.last_used_at),
  }
}

/** A stored ceremony challenge (see migration 0014). */
export interface WebauthnChallenge {
  purpose: 'register' | 'authenticate'
  user_id: string | null
  challenge: string
}

export function createPasskeysRepo(db: Kysely<DB>) {
  return {
    async insert(p: NewPasskey): Promise<void> {
      await db
        .insertInto('passkeys')
        .values({
          id: p.id,
          user_id: p.user_id,
          credential_id: p.credential_id,
          public_key: Buffer.from(p.public_key).toString('base64url'),
          counter: p.counter,
          transports: p.transports.length > 0 ? JSON.stringify(p.transports) : null,
          device_type: p.device_type,
          backed_up: bit(p.backed_up),
          name: p.name,
          created_at: iso(p.created_at),
          last_used_at: null,
        })
        .execute()
    },

    async listForUser(userId: string): Promise<Passkey[]> {
      const rows = await db
        .selectFrom('passkeys')
        .selectAll()
        .where('user_id', '=', userId)
        .orderBy('created_at')
        .orderBy('id')
        .execute()
      return rows.map(toPasskey)
    },

    async countForUser(userId: string): Promise<number> {
      const row = await db
        .selectFrom('passkeys')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('user_id', '=', userId)
        .executeTakeFirstOrThrow()
      return Number(row.n)
    },

    async findByCredentialId(credentialId: string): Promise<Passkey | undefined> {
      const row = await db
        .selectFrom('passkeys')
        .selectAll()
        .where('credential_id', '=', credentialId)
        .executeTakeFirst()
      return row && toPasskey(row)
    },

    /**
     * Records a verified use. The counter only moves forward: of two racing
     * uses the lower counter loses, and a false answer tells the caller so.
     */
    async recordUse(
      id: string,
      previous: number,
      use: { counter: number; backed_up: boolean; at: Date },
    ): Promise<boolean> {
      const result = await db
        .updateTable('passkeys')
        .set({ counter: use.counter, backed_up: bit(use.backed_up), last_used_at: iso(use.at) })
        .where('id', '=', id)
        .where('counter', '=', previous)
        .executeTakeFirst()
      return result.numUpdatedRows > 0n
    },

    async rename(userId: string, id: string, name: string): Promise<boolean> {
      const result = await db
        .updateTable('passkeys')
        .set({ name })
        .where('id', '=', id)
        .where('user_id', '=', userId)
        .executeTakeFirst()
      return result.numUpdatedRows > 0n
    },

    async delete(userId: string, id: string): Promise<boolean> {
      const result = await db
        .deleteFrom('passkeys')
        .where('id', '=', id)
        .where('user_id', '=', userId)
        .executeTakeFirst()
      return result.numDeletedRows > 0n
    },

    async insertChallenge(
      handleHash: string,
      c: WebauthnChallenge,
      now: Date,
      expiresAt: Date,
    ): Promise<void> {
      // Expired challenges are swept as new ones arrive, so the table stays small.
      await db.deleteFrom('webauthn_challenges').where('expires_at', '<=', iso(now)).execute()
      await db
        .insertInto('webauthn_challenges')
        .values({
          handle_hash: handleHash,
          purpose: c.purpose,
          user_id: c.user_id,
          challenge: c.challenge,
          created_at: iso(now),
          expires_at: iso(expiresAt),
        })
        .execute()
    },

    /** Deletes a live challenge and answers it: of two concurrent uses, one wins. */
    async consumeChallenge(handleHash: string, now: Date): Promise<WebauthnChallenge | undefined> {
      const row = await db
        .deleteFrom('webauthn_challenges')
        .where('handle_hash', '=', handleHash)
        .where('expires_at', '>', iso(now))
        .returning(['purpose', 'user_id', 'challenge'])
        .executeTakeFirst()
      if (!row) return undefined
      const purpose = row.purpose === 'register' ? 'register' : 'authenticate'
      return { purpose, user_id: row.user_id, challenge: row.challenge }
    },
  }
}

export type PasskeysRepo = ReturnType<typeof createPasskeysRepo>
