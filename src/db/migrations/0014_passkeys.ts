import type { Kysely } from 'kysely'
import { columnTypes } from './column-types.js'

export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db)
  // WebAuthn credentials (SPEC §9). The public key is stored as COSE bytes in
  // base64url; nothing secret lives here (the private key never leaves the authenticator).
  await db.schema
    .createTable('passkeys')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('user_id', t.id, (c) => c.notNull().references('users.id').onDelete('cascade'))
    // base64url; unique across users, as a credential belongs to one account
    .addColumn('credential_id', 'varchar(1400)', (c) => c.notNull().unique())
    .addColumn('public_key', 'text', (c) => c.notNull())
    // the signature counter: a value that does not grow betrays a cloned authenticator
    .addColumn('counter', 'bigint', (c) => c.notNull())
    // JSON array of the authenticator's transports, as hints for later ceremonies
    .addColumn('transports', 'varchar(255)')
    .addColumn('device_type', 'varchar(16)', (c) => c.notNull())
    .addColumn('backed_up', t.bool, (c) => c.notNull())
    .addColumn('name', 'varchar(64)', (c) => c.notNull())
    .addColumn('created_at', t.ts, (c) => c.notNull())
    .addColumn('last_used_at', t.ts)
    .execute()
  await db.schema.createIndex('passkeys_user_id_idx').on('passkeys').column('user_id').execute()

  // Ceremony challenges, kept server-side and found by the SHA-256 of a random
  // handle held in the browser's cookie: single use, short-lived, and never
  // taken from what the client sends back.
  await db.schema
    .createTable('webauthn_challenges')
    .addColumn('handle_hash', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('purpose', 'varchar(16)', (c) => c.notNull())
    // the account a registration or second-factor challenge is for; null: passwordless
    .addColumn('user_id', t.id, (c) => c.references('users.id').onDelete('cascade'))
    .addColumn('challenge', 'varchar(128)', (c) => c.notNull())
    .addColumn('created_at', t.ts, (c) => c.notNull())
    .addColumn('expires_at', t.ts, (c) => c.notNull())
    .execute()
  await db.schema
    .createIndex('webauthn_challenges_expires_at_idx')
    .on('webauthn_challenges')
    .column('expires_at')
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('webauthn_challenges').execute()
  await db.schema.dropTable('passkeys').execute()
}
