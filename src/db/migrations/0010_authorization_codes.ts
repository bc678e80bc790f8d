import type { Kysely } from 'kysely'
import { columnTypes } from './column-types.js'

export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db)
  // OAuth authorization codes (RFC 6749 §4.1.2): kept only as the SHA-256 of
  // 256 random bits, bound to everything the token request must match.
  await db.schema
    .createTable('authorization_codes')
    .addColumn('code_hash', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('client_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('redirect_uri', 'text', (c) => c.notNull())
    .addColumn('code_challenge', 'varchar(128)', (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('nonce', 'text')
    .addColumn('user_id', t.id, (c) => c.notNull().references('users.id').onDelete('cascade'))
    // The browser session the user signed in with; the ID token's `sid`.
    .addColumn('browser_session_id', t.id, (c) => c.notNull())
    .addColumn('auth_time', t.ts, (c) => c.notNull())
    // RFC 8176 methods, space-separated
    .addColumn('amr', 'varchar(255)', (c) => c.notNull())
    .addColumn('created_at', t.ts, (c) => c.notNull())
    .addColumn('expires_at', t.ts, (c) => c.notNull())
    // Set once, by the one exchange that wins; a second presentation is a replay.
    .addColumn('used_at', t.ts)
    // The session the exchange opened, revoked if the code is replayed (RFC 6749 §4.1.2).
    .addColumn('issued_session_id', t.id)
    .execute()
  await db.schema
    .createIndex('authorization_codes_expires_at')
    .on('authorization_codes')
    .column('expires_at')
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('authorization_codes').execute()
}
