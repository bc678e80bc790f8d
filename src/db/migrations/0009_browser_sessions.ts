import type { Kysely } from 'kysely'
import { columnTypes } from './column-types.js'

export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db)
  // The browser session (SPEC §7) is a session row of the `keygate` client
  // found by the SHA-256 of its cookie; the sessions an authorization opens
  // from it name it as their parent, so signing out ends them together.
  // One column per statement: SQLite's ALTER TABLE adds one at a time.
  await db.schema.alterTable('sessions').addColumn('cookie_hash', 'varchar(64)').execute()
  await db.schema.alterTable('sessions').addColumn('parent_id', t.id).execute()
  await db.schema.alterTable('sessions').addColumn('auth_time', t.ts).execute()
  await db.schema.alterTable('sessions').addColumn('amr', 'varchar(64)').execute()
  await db.schema
    .createIndex('sessions_cookie_hash_idx')
    .on('sessions')
    .column('cookie_hash')
    .unique()
    .execute()
  await db.schema.createIndex('sessions_parent_id_idx').on('sessions').column('parent_id').execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('sessions_parent_id_idx').execute()
  await db.schema.dropIndex('sessions_cookie_hash_idx').execute()
  for (const column of ['amr', 'auth_time', 'parent_id', 'cookie_hash']) {
    await db.schema.alterTable('sessions').dropColumn(column).execute()
  }
}
