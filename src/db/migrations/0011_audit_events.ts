import { type Kysely, PostgresAdapter } from 'kysely'
import { columnTypes } from './column-types.js'

export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db)
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter
  // The id is the pagination cursor: it only grows (AUTOINCREMENT on SQLite
  // never reuses the id of a pruned row). No foreign keys: an event outlives
  // the user it is about until retention removes it.
  await db.schema
    .createTable('audit_events')
    .addColumn('id', postgres ? 'bigserial' : 'integer', (c) =>
      postgres ? c.primaryKey() : c.primaryKey().autoIncrement(),
    )
    .addColumn('created_at', t.ts, (c) => c.notNull())
    .addColumn('type', 'varchar(64)', (c) => c.notNull())
    .addColumn('user_id', 'varchar(64)')
    .addColumn('actor_id', 'varchar(64)')
    .addColumn('client_id', 'varchar(255)')
    .addColumn('ip', 'varchar(64)')
    .addColumn('user_agent', 'varchar(512)')
    .addColumn('request_id', 'varchar(128)')
    .addColumn('details', 'varchar(2048)', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull().defaultTo(1))
    // Folds repeated failed sign-ins of one account and client into one row a minute.
    .addColumn('bucket', 'varchar(64)', (c) => c.unique())
    .execute()
  await db.schema
    .createIndex('audit_events_user_id_idx')
    .on('audit_events')
    .columns(['user_id', 'id'])
    .execute()
  await db.schema
    .createIndex('audit_events_created_at_idx')
    .on('audit_events')
    .column('created_at')
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('audit_events').execute()
}
