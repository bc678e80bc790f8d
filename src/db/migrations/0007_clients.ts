import type { Kysely } from 'kysely'
import { columnTypes } from './column-types.js'

export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db)
  // Registered applications (SPEC §6). The list columns hold JSON arrays as
  // text, the same on both dialects; the secret is kept only as its SHA-256.
  await db.schema
    .createTable('clients')
    .addColumn('client_id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('name', 'varchar(200)', (c) => c.notNull())
    .addColumn('type', 'varchar(16)', (c) => c.notNull())
    .addColumn('secret_hash', 'varchar(64)')
    .addColumn('redirect_uris', 'text', (c) => c.notNull())
    .addColumn('post_logout_redirect_uris', 'text', (c) => c.notNull())
    .addColumn('grant_types', 'text', (c) => c.notNull())
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('first_party', t.bool, (c) => c.notNull())
    .addColumn('created_at', t.ts, (c) => c.notNull())
    .addColumn('updated_at', t.ts, (c) => c.notNull())
    .execute()
  // The built-in client's row, so tables that reference clients can hold
  // `keygate` too. The service answers its definition from code, never from
  // this row, so it cannot drift (services/oauth/clients.ts).
  const now = new Date().toISOString()
  await db
    .insertInto('clients')
    .values({
      client_id: 'keygate',
      name: 'Keygate',
      type: 'public',
      secret_hash: null,
      redirect_uris: '[]',
      post_logout_redirect_uris: '[]',
      grant_types: '["password","refresh_token"]',
      scopes: '[]',
      first_party: 1,
      created_at: now,
      updated_at: now,
    })
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('clients').execute()
}
