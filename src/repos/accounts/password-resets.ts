import type { Kysely } from 'kysely'
import type { DB } from '../../db/schema.js'
import { iso } from '../support/row.js'

export interface NewResetToken {
  user_id: string
  token_hash: string
  created_at: Date
  expires_at: Date
}

export function createPasswordResetsRepo(db: Kysely<DB>) {
  return {
    /**
     * Stores a new token beside any live ones: issuing a link never cancels
     * one already sent, so a stream of requests cannot keep the owner from
     * finishing a reset.
     */
    async insert(t: NewResetToken): Promise<void> {
      await db
        .insertInto('password_reset_tokens')
        .values({
          token_hash: t.token_hash,
          user_id: t.user_id,
          created_at: iso(t.created_at),
          expires_at: iso(t.expires_at),
        })
        .execute()
    },

    /** The owner of a live token, without using it up. */
    async findLiveUserId(tokenHash: string, now: Date): Promise<string | undefined> {
      const row = await db
        .selectFrom('password_reset_tokens')
        .select('user_id')
        .where('token_hash', '=', tokenHash)
        .where('expires_at', '>', iso(now))
        .executeTakeFirst()
      return row?.user_id
    },

    /** Deletes a live token and answers its owner: of two concurrent uses, one wins. The user's other tokens stay (the caller deletes them). */
    async consume(tokenHash: string, now: Date): Promise<string | undefined> {
      const row = await db
        .deleteFrom('password_reset_tokens')
        .where('token_hash', '=', tokenHash)
        .where('expires_at', '>', iso(now))
        .returning('user_id')
        .executeTakeFirst()
      return row?.user_id
    },

    async deleteForUser(userId: string): Promise<void> {
      await db.deleteFrom('password_reset_tokens').where('user_id', '=', userId).execute()
    },
  }
}

export type PasswordResetsRepo = ReturnType<typeof createPasswordResetsRepo>
