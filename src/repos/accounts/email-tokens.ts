import type { Kysely } from 'kysely'
import type { DB } from '../../db/schema.js'
import { iso } from '../support/row.js'

export interface NewEmailToken {
  token_hash: string
  user_id: string
  /** null: the link verifies the current address; else it moves the account here */
  new_email: string | null
  created_at: Date
  expires_at: Date
}

/** Mailed one-time links for verifying or changing an email (stored as SHA-256). */
export function createEmailTokensRepo(db: Kysely<DB>) {
  return {
    async insert(t: NewEmailToken): Promise<void> {
      await db
        .insertInto('email_tokens')
        .values({ ...t, created_at: iso(t.created_at), expires_at: iso(t.expires_at) })
        .execute()
    },

    /** Deletes a live token and answers what it was for: of two concurrent uses, one wins. */
    async consume(
      tokenHash: string,
      now: Date,
    ): Promise<{ user_id: string; new_email: string | null } | undefined> {
      return db
        .deleteFrom('email_tokens')
        .where('token_hash', '=', tokenHash)
        .where('expires_at', '>', iso(now))
        .returning(['user_id', 'new_email'])
        .executeTakeFirst()
    },

    /** The address a live change link of the user would move the account to (the newest). */
    async findPendingChange(userId: string, now: Date): Promise<string | undefined> {
      const row = await db
        .selectFrom('email_tokens')
        .select('new_email')
        .where('user_id', '=', userId)
        .where('new_email', 'is not', null)
        .where('expires_at', '>', iso(now))
        .orderBy('created_at', 'desc')
        .executeTakeFirst()
      return row?.new_email ?? undefined
    },

    /** Drops the user's links of one kind (verification, or pending address changes). */
    async deleteForUser(userId: string, kind: 'verify' | 'change'): Promise<void> {
      await db
        .deleteFrom('email_tokens')
        .where('user_id', '=', userId)
        .where('new_email', kind === 'verify' ? 'is' : 'is not', null)
        .execute()
    },
  }
}

export type EmailTokensRepo = ReturnType<typeof createEmailTokensRepo>
