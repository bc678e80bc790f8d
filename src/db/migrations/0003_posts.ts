import type { Kysely } from 'kysely'
import { columnTypes } from './column-types.js'

export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db)
  await db.schema
    .createTable('posts')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('owner_id', t.id, (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('title', 'varchar(200)', (c) => c.notNull())
    .addColumn('content', 'text', (c) => c.notNull())
    .addColumn('published', t.bool, (c) => c.notNull())
    .addColumn('created_at', t.ts, (c) => c.notNull())
    .addColumn('updated_at', t.ts, (c) => c.notNull())
    .execute()
  // GET /posts lists newest first; id breaks ties so pages are stable.
  await db.schema
    .createIndex('posts_created_at_idx')
    .on('posts')
    .columns(['created_at', 'id'])
    .execute()
  await db.schema.createIndex('posts_owner_id_idx').on('posts').column('owner_id').execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('posts').execute()
}
