import type { Kysely } from 'kysely'

// Pruning deletes refresh tokens by expiry every hour; the table is the largest
// one Keygate has (spent tokens stay until they expire, for reuse detection).
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex('refresh_tokens_expires_at_idx')
    .on('refresh_tokens')
    .column('expires_at')
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('refresh_tokens_expires_at_idx').execute()
}
