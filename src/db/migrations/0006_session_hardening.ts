import type { Kysely } from 'kysely'
import { columnTypes } from './column-types.js'

export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db)
  // The successor a spent refresh token was rotated into, sealed under a key
  // derived from the spent token itself: a retry within the grace window gets
  // that same successor back instead of a new branch (RFC 9700 §4.14.2).
  await db.schema.alterTable('refresh_tokens').addColumn('successor', 'varchar(255)').execute()
  // After a password change the changing session keeps only the caller's own
  // access token (by jti); every other holder of that session is cut off.
  await db.schema.alterTable('sessions').addColumn('pinned_jti', 'varchar(64)').execute()

  // Reset tokens: several may be live per user, so a new request never cancels
  // the link already mailed. The table is rebuilt keyed by the token's hash
  // (SQLite cannot change a primary key in place).
  await db.schema
    .createTable('password_reset_tokens_v2')
    .addColumn('token_hash', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('user_id', t.id, (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', t.ts, (c) => c.notNull())
    .addColumn('expires_at', t.ts, (c) => c.notNull())
    .execute()
  await db
    .insertInto('password_reset_tokens_v2')
    .columns(['token_hash', 'user_id', 'created_at', 'expires_at'])
    .expression(
      db
        .selectFrom('password_reset_tokens')
        .select(['token_hash', 'user_id', 'created_at', 'expires_at']),
    )
    .execute()
  await db.schema.dropTable('password_reset_tokens').execute()
  await db.schema.alterTable('password_reset_tokens_v2').renameTo('password_reset_tokens').execute()
  await db.schema
    .createIndex('password_reset_tokens_user_id_idx')
    .on('password_reset_tokens')
    .column('user_id')
    .execute()

  // The server secret when SECRET_KEY is unset (asymmetric JWT algorithms):
  // made once, shared by every instance through the database.
  await db.schema
    .createTable('server_secrets')
    .addColumn('name', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('value', 'varchar(128)', (c) => c.notNull())
    .addColumn('created_at', t.ts, (c) => c.notNull())
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db)
  await db.schema.dropTable('server_secrets').execute()
  await db.schema.dropIndex('password_reset_tokens_user_id_idx').execute()
  await db.schema.alterTable('password_reset_tokens').renameTo('password_reset_tokens_v2').execute()
  await db.schema
    .createTable('password_reset_tokens')
    .addColumn('user_id', t.id, (c) => c.primaryKey().references('users.id').onDelete('cascade'))
    .addColumn('token_hash', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('created_at', t.ts, (c) => c.notNull())
    .addColumn('expires_at', t.ts, (c) => c.notNull())
    .execute()
  // Back to one token per user: the newest one of each.
  const rows = await db
    .selectFrom('password_reset_tokens_v2')
    .selectAll()
    .orderBy('created_at', 'desc')
    .execute()
  const seen = new Set<string>()
  for (const row of rows) {
    if (seen.has(row.user_id)) continue
    seen.add(row.user_id)
    await db.insertInto('password_reset_tokens').values(row).execute()
  }
  await db.schema.dropTable('password_reset_tokens_v2').execute()
  await db.schema.alterTable('sessions').dropColumn('pinned_jti').execute()
  await db.schema.alterTable('refresh_tokens').dropColumn('successor').execute()
}
