import { type Kysely, PostgresAdapter, sql } from 'kysely'
import { columnTypes } from './column-types.js'

export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db)
  const no = sql.raw(db.getExecutor().adapter instanceof PostgresAdapter ? 'false' : '0')
  // Accounts made before this migration are unverified: nothing proved their address.
  await db.schema
    .alterTable('users')
    .addColumn('email_verified', t.bool, (c) => c.notNull().defaultTo(no))
    .execute()

  // One-time mail links: verify the address (new_email null) or move to new_email.
  await db.schema
    .createTable('email_tokens')
    .addColumn('token_hash', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('user_id', t.id, (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('new_email', 'varchar(320)')
    .addColumn('created_at', t.ts, (c) => c.notNull())
    .addColumn('expires_at', t.ts, (c) => c.notNull())
    .execute()
  await db.schema
    .createIndex('email_tokens_user_id_idx')
    .on('email_tokens')
    .column('user_id')
    .execute()

  // The TOTP secret, encrypted (it must be read back to check codes);
  // confirmed_at null while enrolment waits for its first code.
  await db.schema
    .createTable('totp_factors')
    .addColumn('user_id', t.id, (c) => c.primaryKey().references('users.id').onDelete('cascade'))
    .addColumn('secret_sealed', 'varchar(255)', (c) => c.notNull())
    .addColumn('created_at', t.ts, (c) => c.notNull())
    .addColumn('confirmed_at', t.ts)
    // the last time step accepted: a code of that step or earlier is a replay
    .addColumn('last_step', 'bigint')
    .execute()

  await db.schema
    .createTable('recovery_codes')
    .addColumn('code_hash', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('user_id', t.id, (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', t.ts, (c) => c.notNull())
    .execute()
  await db.schema
    .createIndex('recovery_codes_user_id_idx')
    .on('recovery_codes')
    .column('user_id')
    .execute()

  // The second step of a sign-in: bound to user and client, counted failures.
  await db.schema
    .createTable('mfa_challenges')
    .addColumn('token_hash', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('user_id', t.id, (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('client_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', t.ts, (c) => c.notNull())
    .addColumn('expires_at', t.ts, (c) => c.notNull())
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('mfa_challenges').execute()
  await db.schema.dropTable('recovery_codes').execute()
  await db.schema.dropTable('totp_factors').execute()
  await db.schema.dropTable('email_tokens').execute()
  await db.schema.alterTable('users').dropColumn('email_verified').execute()
}
