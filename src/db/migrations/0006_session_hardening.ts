import type { Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  // The successor a spent refresh token was rotated into, sealed under a key
  // derived from the spent token itself: a retry within the grace window gets
  // that same successor back instead of a new branch (RFC 9700 §4.14.2).
  await db.schema.alterTable('refresh_tokens').addColumn('successor', 'varchar(255)').execute()
  // After a password change the changing session keeps only the caller's own
  // access token (by jti); every other holder of that session is cut off.
  await db.schema.alterTable('sessions').addColumn('pinned_jti', 'varchar(64)').execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('sessions').dropColumn('pinned_jti').execute()
  await db.schema.alterTable('refresh_tokens').dropColumn('successor').execute()
}
