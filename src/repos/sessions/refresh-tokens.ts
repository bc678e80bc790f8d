import type { Kysely } from 'kysely'
import type { DB } from '../../db/schema.js'
import { iso, toDate } from '../support/row.js'

export interface RefreshToken {
  token_hash: string
  session_id: string
  created_at: Date
  expires_at: Date
  used_at: Date | null
  /** the token this one was rotated into, sealed (services/sessions/successor.ts) */
  successor: string | null
}

export type NewRefreshToken = Omit<RefreshToken, 'used_at' | 'successor'>

export function createRefreshTokensRepo(db: Kysely<DB>) {
  const values = (t: NewRefreshToken) => ({
    token_hash: t.token_hash,
    session_id: t.session_id,
    created_at: iso(t.created_at),
    expires_at: iso(t.expires_at),
    used_at: null,
    successor: null,
  })

  return {
    async insert(t: NewRefreshToken): Promise<void> {
      await db.insertInto('refresh_tokens').values(values(t)).execute()
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
     * Spends `parentHash` into `child`, only if nobody did first: the
     * conditional UPDATE decides (of concurrent rotations exactly one sees
     * `true`, on either dialect), and the child row is written in the same
     * transaction, so whoever reads the parent's successor finds the child.
     */
    async rotate(
      parentHash: string,
      child: NewRefreshToken,
      sealedChild: string,
      now: Date,
    ): Promise<boolean> {
      return db.transaction().execute(async (trx) => {
        const r = await trx
          .updateTable('refresh_tokens')
          .set({ used_at: iso(now), successor: sealedChild })
          .where('token_hash', '=', parentHash)
          .where('used_at', 'is', null)
          .executeTakeFirst()
        if (r.numUpdatedRows === 0n) return false
        await trx.insertInto('refresh_tokens').values(values(child)).execute()
        return true
      })
    },

    /** Forgets sealed successors of tokens spent before `cutoff` (their grace window is over). */
    async clearSuccessors(cutoff: Date): Promise<number> {
      const r = await db
        .updateTable('refresh_tokens')
        .set({ successor: null })
        .where('successor', 'is not', null)
        .where('used_at', '<=', iso(cutoff))
        .executeTakeFirst()
      return Number(r.numUpdatedRows)
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
