import type { Kysely } from 'kysely'
import type { DB } from '../../db/schema.js'
import { iso } from './row.js'

export function createServerSecretsRepo(db: Kysely<DB>) {
  return {
    /**
     * The secret stored under `name`, storing `candidate` first if there is
     * none: of instances starting together, the first insert wins and all of
     * them read the same value.
     */
    async getOrCreate(name: string, candidate: string, now: Date): Promise<string> {
      await db
        .insertInto('server_secrets')
        .values({ name, value: candidate, created_at: iso(now) })
        .onConflict((oc) => oc.column('name').doNothing())
        .execute()
      const row = await db
        .selectFrom('server_secrets')
        .select('value')
        .where('name', '=', name)
        .executeTakeFirstOrThrow()
      return row.value
    },
  }
}

export type ServerSecretsRepo = ReturnType<typeof createServerSecretsRepo>
