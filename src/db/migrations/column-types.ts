import { type Kysely, PostgresAdapter, type RawBuilder, sql } from 'kysely'

/** Portable column types; the one place a migration looks at the dialect. */
export function columnTypes(db: Kysely<any>): {
  id: RawBuilder<unknown>
  ts: RawBuilder<unknown>
  bool: RawBuilder<unknown>
} {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter
  return {
    id: sql.raw(postgres ? 'uuid' : 'text'),
    ts: sql.raw(postgres ? 'timestamptz' : 'text'),
    bool: sql.raw(postgres ? 'boolean' : 'integer'),
  }
}
