import type { Kysely } from 'kysely'
import type { DB } from '../db/schema.js'
import { iso, toDate } from './row.js'

export interface RefreshToken {
  token_hash: string
  session_id: string
  created_at: Date
  expires_at: Date
  used_at: Date | null
}

export function createRefreshTokensRepo(db: Kysely<DB>) {
  return {
    async insert(t: Omit<RefreshToken, 'used_at'>): Promise<void> {
      await db
        .insertInto('refresh_tokens')
        .values({
          token_hash: t.token_hash,
          session_id: t.session_id,
          created_at: iso(t.created_at),
          expires_at: iso(t.expires_at),
          used_at: null,
        })
        .execute()
    },

    async findByHash(tokenHash: string): Promise<RefreshToken | undefined> {
      const row = await db
        .selectFrom('refresh_tokens')
        .selectAll()
        .where('token_hash', '=', tokenHash)
        .executeTakeFirst()
      return (
        row && {
          ...row,
          created_at: toDate(row.created_at),
          expires_at: toDate(row.expires_at),
          used_at: row.used_at === null ? null : toDate(row.used_at),
        }
      )
    },

    /**
     * Marks a token spent, only if nobody did first: one conditional UPDATE,
     * so of two concurrent rotations exactly one sees `true` on either dialect.
     */
    async markUsed(tokenHash: string, now: Date): Promise<boolean> {
      const r = await db
        .updateTable('refresh_tokens')
        .set({ used_at: iso(now) })
        .where('token_hash', '=', tokenHash)
        .where('used_at', 'is', null)
        .executeTakeFirst()
      return r.numUpdatedRows > 0n
    },

    /** Deletes tokens past their own expiry; returns how many went. */
    async deleteExpired(now: Date): Promise<number> {
      const r = await db
        .deleteFrom('refresh_tokens')
        .where('expires_at', '<=', iso(now))
        .executeTakeFirst()
      return Number(r.numDeletedRows)
    },
  }
}

export type RefreshTokensRepo = ReturnType<typeof createRefreshTokensRepo>
