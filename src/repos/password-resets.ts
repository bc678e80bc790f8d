import type { Kysely } from 'kysely'
import type { DB } from '../db/schema.js'
import { iso } from './row.js'

export interface NewResetToken {
  user_id: string
  token_hash: string
  created_at: Date
  expires_at: Date
}

export function createPasswordResetsRepo(db: Kysely<DB>) {
  return {
    /** Stores the user's one reset token, replacing any older one in the same statement. */
    async replace(t: NewResetToken): Promise<void> {
      const values = {
        token_hash: t.token_hash,
        created_at: iso(t.created_at),
        expires_at: iso(t.expires_at),
      }
      await db
        .insertInto('password_reset_tokens')
        .values({ user_id: t.user_id, ...values })
        .onConflict((oc) => oc.column('user_id').doUpdateSet(values))
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

    /** Deletes a live token and answers its owner: of two concurrent uses, one wins. */
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
