import { type Kysely, PostgresAdapter, sql } from 'kysely'
import { columnTypes } from './column-types.js'

export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db)
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter
  // The revocation feed (SPEC §11): one row per revoked session (sid) or user
  // (sub), numbered by a monotonic cursor that followers resume from. Kept
  // until `until`, when every access token the entry covers has expired.
  await db.schema
    .createTable('revocations')
    .addColumn('cursor', postgres ? 'bigserial' : 'integer', (c) =>
      postgres ? c.primaryKey() : c.primaryKey().autoIncrement(),
    )
    .addColumn('sid', t.id)
    .addColumn('sub', t.id)
    .addColumn('until', t.ts, (c) => c.notNull())
    .addColumn('at', t.ts, (c) => c.notNull())
    // A password change keeps one access token of the changing session: every other is revoked.
    .addColumn('keep_jti', 'varchar(64)')
    .addCheckConstraint('revocations_sid_or_sub', sql`(sid is null) <> (sub is null)`)
    .execute()
  await db.schema.createIndex('revocations_until_idx').on('revocations').column('until').execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('revocations').execute()
}
