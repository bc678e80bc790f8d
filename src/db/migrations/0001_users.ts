import type { Kysely } from 'kysely'
import { columnTypes } from './column-types.js'

// Frozen in time: migrations import nothing from the app.
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db)
  await db.schema
    .createTable('users')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('email', 'varchar(320)', (c) => c.notNull())
    // Case-insensitive uniqueness is enforced by the database on this column.
    .addColumn('email_normalized', 'varchar(320)', (c) => c.notNull().unique())
    .addColumn('username', 'varchar(32)')
    .addColumn('username_normalized', 'varchar(32)', (c) => c.unique())
    .addColumn('hashed_password', 'text', (c) => c.notNull())
    .addColumn('is_active', t.bool, (c) => c.notNull())
    .addColumn('is_superuser', t.bool, (c) => c.notNull())
    .addColumn('created_at', t.ts, (c) => c.notNull())
    .addColumn('updated_at', t.ts, (c) => c.notNull())
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('users').execute()
}
