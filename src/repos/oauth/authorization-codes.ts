import type { Kysely, Selectable } from 'kysely'
import type { AuthorizationCodesTable, DB } from '../../db/schema.js'
import { iso, toDate } from '../support/row.js'

/** An authorization code as services see it; the code itself is never stored. */
export interface AuthorizationCode {
  code_hash: string
  client_id: string
  redirect_uri: string
  code_challenge: string
  scopes: string[]
  nonce: string | null
  user_id: string
  browser_session_id: string
  auth_time: Date
  amr: string[]
  created_at: Date
  expires_at: Date
  used_at: Date | null
  issued_session_id: string | null
}

export type NewAuthorizationCode = Omit<AuthorizationCode, 'used_at' | 'issued_session_id'>

const words = (s: string) => s.split(' ').filter((w) => w !== '')

function toCode(row: Selectable<AuthorizationCodesTable>): AuthorizationCode {
  const { scope, ...rest } = row
  return {
    ...rest,
    scopes: words(scope),
    amr: words(row.amr),
    auth_time: toDate(row.auth_time),
    created_at: toDate(row.created_at),
    expires_at: toDate(row.expires_at),
    used_at: row.used_at === null ? null : toDate(row.used_at),
  }
}

export function createAuthorizationCodesRepo(db: Kysely<DB>) {
  return {
    async insert(c: NewAuthorizationCode): Promise<void> {
      const { scopes, amr, ...rest } = c
      await db
        .insertInto('authorization_codes')
        .values({
          ...rest,
          scope: scopes.join(' '),
          amr: amr.join(' '),
          auth_time: iso(c.auth_time),
          created_at: iso(c.created_at),
          expires_at: iso(c.expires_at),
          used_at: null,
          issued_session_id: null,
        })
        .execute()
    },

    async findByHash(codeHash: string): Promise<AuthorizationCode | undefined> {
      const row = await db
        .selectFrom('authorization_codes')
        .selectAll()
        .where('code_hash', '=', codeHash)
        .executeTakeFirst()
      return row && toCode(row)
    },

    /**
     * Spends the code for the session about to be opened from it, only if
     * nobody did first: of concurrent exchanges exactly one sees `true` (the
     * conditional UPDATE decides on either dialect), and the session id is
     * recorded in the same statement, so a replay always knows what to revoke.
     */
    async consume(codeHash: string, sessionId: string, now: Date): Promise<boolean> {
      const r = await db
        .updateTable('authorization_codes')
        .set({ used_at: iso(now), issued_session_id: sessionId })
        .where('code_hash', '=', codeHash)
        .where('used_at', 'is', null)
        .executeTakeFirst()
      return r.numUpdatedRows > 0n
    },

    /**
     * Deletes codes past their expiry. A spent code is kept that long too, so
     * its replay within the lifetime is still recognised and revokes its session.
     */
    async deleteExpired(now: Date): Promise<number> {
      const r = await db
        .deleteFrom('authorization_codes')
        .where('expires_at', '<=', iso(now))
        .executeTakeFirst()
      return Number(r.numDeletedRows)
    },
  }
}

export type AuthorizationCodesRepo = ReturnType<typeof createAuthorizationCodesRepo>
