import type { Kysely } from 'kysely'
import type { DB } from '../../db/schema.js'
import { iso, toDate } from '../support/row.js'

export interface TotpFactor {
  user_id: string
  secret_sealed: string
  created_at: Date
  confirmed_at: Date | null
  last_step: number | null
}

/** TOTP factors, recovery codes and the second step of sign-ins. */
export function createFactorsRepo(db: Kysely<DB>) {
  return {
    async findTotp(userId: string): Promise<TotpFactor | undefined> {
      const row = await db
        .selectFrom('totp_factors')
        .selectAll()
        .where('user_id', '=', userId)
        .executeTakeFirst()
      return (
        row && {
          user_id: row.user_id,
          secret_sealed: row.secret_sealed,
          created_at: toDate(row.created_at),
          confirmed_at: row.confirmed_at === null ? null : toDate(row.confirmed_at),
          last_step: row.last_step === null ? null : Number(row.last_step),
        }
      )
    },

    /** A new, unconfirmed enrolment; it replaces an unconfirmed one, never a confirmed one. */
    async startTotp(userId: string, sealed: string, now: Date): Promise<boolean> {
      await db
        .deleteFrom('totp_factors')
        .where('user_id', '=', userId)
        .where('confirmed_at', 'is', null)
        .execute()
      const existing = await db
        .selectFrom('totp_factors')
        .select('user_id')
        .where('user_id', '=', userId)
        .executeTakeFirst()
      if (existing) return false
      await db
        .insertInto('totp_factors')
        .values({ user_id: userId, secret_sealed: sealed, created_at: iso(now), last_step: null })
        .execute()
      return true
    },

    /**
     * Records `step` as the last accepted one, only if it is later than the
     * last: of two uses of one code (or a replay), one wins.
     */
    async acceptStep(userId: string, step: number, confirmAt?: Date): Promise<boolean> {
      const result = await db
        .updateTable('totp_factors')
        .set({ last_step: step, ...(confirmAt && { confirmed_at: iso(confirmAt) }) })
        .where('user_id', '=', userId)
        .where((eb) => eb.or([eb('last_step', 'is', null), eb('last_step', '<', step)]))
        .executeTakeFirst()
      return result.numUpdatedRows > 0n
    },

    async deleteTotp(userId: string): Promise<void> {
      await db.deleteFrom('totp_factors').where('user_id', '=', userId).execute()
    },

    /** Replaces every recovery code of the user with these (hashes). */
    async replaceRecoveryCodes(userId: string, hashes: string[], now: Date): Promise<void> {
      await db.deleteFrom('recovery_codes').where('user_id', '=', userId).execute()
      if (hashes.length === 0) return
      await db
        .insertInto('recovery_codes')
        .values(hashes.map((h) => ({ code_hash: h, user_id: userId, created_at: iso(now) })))
        .execute()
    },

    /** Spends a recovery code: true if it was the user's and unused. */
    async useRecoveryCode(userId: string, hash: string): Promise<boolean> {
      const result = await db
        .deleteFrom('recovery_codes')
        .where('user_id', '=', userId)
        .where('code_hash', '=', hash)
        .executeTakeFirst()
      return result.numDeletedRows > 0n
    },

    async countRecoveryCodes(userId: string): Promise<number> {
      const row = await db
        .selectFrom('recovery_codes')
        .select((eb) => eb.fn.countAll<string | number>().as('n'))
        .where('user_id', '=', userId)
        .executeTakeFirstOrThrow()
      return Number(row.n)
    },

    async insertChallenge(c: {
      token_hash: string
      user_id: string
      client_id: string
      created_at: Date
      expires_at: Date
    }): Promise<void> {
      await db
        .insertInto('mfa_challenges')
        .values({ ...c, created_at: iso(c.created_at), expires_at: iso(c.expires_at) })
        .execute()
    },

    /** A live challenge with fewer than `maxFailures` wrong codes. */
    async findChallenge(
      tokenHash: string,
      now: Date,
      maxFailures: number,
    ): Promise<{ user_id: string; client_id: string } | undefined> {
      return db
        .selectFrom('mfa_challenges')
        .select(['user_id', 'client_id'])
        .where('token_hash', '=', tokenHash)
        .where('expires_at', '>', iso(now))
        .where('failures', '<', maxFailures)
        .executeTakeFirst()
    },

    async failChallenge(tokenHash: string): Promise<void> {
      await db
        .updateTable('mfa_challenges')
        .set((eb) => ({ failures: eb('failures', '+', 1) }))
        .where('token_hash', '=', tokenHash)
        .execute()
    },

    /** Spends a challenge: of two concurrent successes, one wins. */
    async consumeChallenge(tokenHash: string): Promise<boolean> {
      const result = await db
        .deleteFrom('mfa_challenges')
        .where('token_hash', '=', tokenHash)
        .executeTakeFirst()
      return result.numDeletedRows > 0n
    },

    /** Every factor of the user and what hangs on them (an admin reset). */
    async deleteAllFor(userId: string): Promise<void> {
      await db.deleteFrom('totp_factors').where('user_id', '=', userId).execute()
      await db.deleteFrom('recovery_codes').where('user_id', '=', userId).execute()
      await db.deleteFrom('mfa_challenges').where('user_id', '=', userId).execute()
      await db.deleteFrom('passkeys').where('user_id', '=', userId).execute()
    },
  }
}

export type FactorsRepo = ReturnType<typeof createFactorsRepo>
