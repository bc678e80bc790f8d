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
  }
}

export type RefreshTokensRepo = ReturnType<typeof createRefreshTokensRepo>
