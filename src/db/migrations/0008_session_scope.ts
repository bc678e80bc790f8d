import type { Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  // The scope granted to a refresh family, space-separated (RFC 6749 §3.3).
  // NULL marks a session from before scopes: it holds every scope its user may
  // hold, as Part I tokens did.
  await db.schema.alterTable('sessions').addColumn('scope', 'text').execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('sessions').dropColumn('scope').execute()
}
