import { type ExpressionBuilder, type Kysely, PostgresAdapter, type Selectable, sql } from 'kysely'
import type { DB, UsersTable } from '../../db/schema.js'
import { type NewUser, normalizeEmail, normalizeUsername, type User } from '../../domain/user.js'
import { atomically, type RepoEvents, silentEvents } from '../sessions/changes.js'
import { writeRevocations } from '../sessions/revocations.js'
import { bit, iso, toBool, toDate } from '../support/row.js'

export interface UserChanges {
  email?: string
  username?: string | null
  hashed_password?: string
  is_active?: boolean
  is_superuser?: boolean
  email_verified?: boolean
}

export function toUser(row: Selectable<UsersTable>): User {
  return {
    id: row.id,
    email: row.email,
    username: row.username,
    hashed_password: row.hashed_password,
    is_active: toBool(row.is_active),
    is_superuser: toBool(row.is_superuser),
    email_verified: toBool(row.email_verified),
    created_at: toDate(row.created_at),
    updated_at: toDate(row.updated_at),
  }
}

function columns(changes: UserChanges) {
  return {
    ...(changes.email !== undefined && {
      email: changes.email,
      email_normalized: normalizeEmail(changes.email),
    }),
    ...(changes.username !== undefined && {
      username: changes.username,
      username_normalized: changes.username === null ? null : normalizeUsername(changes.username),
    }),
    ...(changes.hashed_password !== undefined && { hashed_password: changes.hashed_password }),
    ...(changes.is_active !== undefined && { is_active: bit(changes.is_active) }),
    ...(changes.is_superuser !== undefined && { is_superuser: bit(changes.is_superuser) }),
    ...(changes.email_verified !== undefined && {
      email_verified: bit(changes.email_verified),
    }),
  }
}

function toRow(user: NewUser) {
  return {
    id: user.id,
    email: user.email,
    email_normalized: normalizeEmail(user.email),
    username: user.username,
    username_normalized: user.username === null ? null : normalizeUsername(user.username),
    hashed_password: user.hashed_password,
    is_active: bit(user.is_active),
    is_superuser: bit(user.is_superuser),
    email_verified: bit(user.email_verified ?? false),
    created_at: iso(user.created_at),
    updated_at: iso(user.created_at),
  }
}

// 11 columns a row: 1,000 rows bind 11,000 values, under SQLite's 32,766 and PostgreSQL's 65,535.
const INSERT_CHUNK = 1000

/**
 * A change to a user tells `events` (cached liveness holds the user row);
 * deleting one also publishes the user in the revocation feed.
 */
export function createUsersRepo(db: Kysely<DB>, events: RepoEvents = silentEvents) {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter
  return {
    async insert(user: NewUser): Promise<User> {
      await db.insertInto('users').values(toRow(user)).execute()
      return { ...user, email_verified: user.email_verified ?? false, updated_at: user.created_at }
    },

    /** Multi-row inserts in chunks; run it inside a transaction to make it all-or-nothing. */
    async insertMany(users: NewUser[]): Promise<void> {
      for (let i = 0; i < users.length; i += INSERT_CHUNK) {
        await db
          .insertInto('users')
          .values(users.slice(i, i + INSERT_CHUNK).map(toRow))
          .execute()
      }
    },

    /** Which of these normalized emails and usernames already belong to an account. */
    async findTaken(
      emails: string[],
      usernames: string[],
    ): Promise<{ emails: Set<string>; usernames: Set<string> }> {
      const taken = { emails: new Set<string>(), usernames: new Set<string>() }
      for (let i = 0; i < emails.length; i += INSERT_CHUNK) {
        const rows = await db
          .selectFrom('users')
          .select('email_normalized')
          .where('email_normalized', 'in', emails.slice(i, i + INSERT_CHUNK))
          .execute()
        for (const r of rows) taken.emails.add(r.email_normalized)
      }
      for (let i = 0; i < usernames.length; i += INSERT_CHUNK) {
        const rows = await db
          .selectFrom('users')
          .select('username_normalized')
          .where('username_normalized', 'in', usernames.slice(i, i + INSERT_CHUNK))
          .execute()
        for (const r of rows) if (r.username_normalized) taken.usernames.add(r.username_normalized)
      }
      return taken
    },

    async findById(id: string): Promise<User | undefined> {
      const row = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst()
      return row && toUser(row)
    },

    /** By email when the login contains '@', else by username (usernames never hold '@'). */
    async findByLogin(login: string): Promise<User | undefined> {
      const query = db.selectFrom('users').selectAll()
      const row = await (login.includes('@')
        ? query.where('email_normalized', '=', normalizeEmail(login))
        : query.where('username_normalized', '=', normalizeUsername(login))
      ).executeTakeFirst()
      return row && toUser(row)
    },

    async update(id: string, changes: UserChanges, now: Date): Promise<User | undefined> {
      await db
        .updateTable('users')
        .set({ ...columns(changes), updated_at: iso(now) })
        .where('id', '=', id)
        .execute()
      await events.committed([{ sub: id }])
      return this.findById(id)
    },

    /** Swaps a hash only if it is still the one that was verified (no lost concurrent change). */
    async replaceHash(id: string, oldHash: string, newHash: string): Promise<void> {
      await db
        .updateTable('users')
        .set({ hashed_password: newHash })
        .where('id', '=', id)
        .where('hashed_password', '=', oldHash)
        .execute()
      await events.committed([{ sub: id }])
    },

    async delete(id: string, now: Date): Promise<boolean> {
      const deleted = await atomically(db, async (t) => {
        const result = await t.deleteFrom('users').where('id', '=', id).executeTakeFirst()
        if (result.numDeletedRows === 0n) return false
        // Its sessions go by cascade; their tokens must stop downstream too.
        await writeRevocations(t, [{ sub: id }], now, events.coverSeconds)
        return true
      })
      if (deleted) await events.committed([{ sub: id }])
      return deleted
    },

    async list(limit: number, offset: number): Promise<{ items: User[]; total: number }> {
      const [rows, count] = await Promise.all([
        db
          .selectFrom('users')
          .selectAll()
          .orderBy('created_at')
          .orderBy('id')
          .limit(limit)
          .offset(offset)
          .execute(),
        db
          .selectFrom('users')
          .select((eb) => eb.fn.countAll<string | number>().as('n'))
          .executeTakeFirstOrThrow(),
      ])
      return { items: rows.map(toUser), total: Number(count.n) }
    },

    /**
     * Users whose email or username contains `query` (case-insensitive: both
     * are stored lowercased), oldest first. `%`, `_` and `\\` in the query
     * match themselves.
     */
    async search(
      query: string,
      limit: number,
      offset: number,
    ): Promise<{ items: User[]; total: number }> {
      const pattern = `%${query.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`
      const matches = (eb: ExpressionBuilder<DB, 'users'>) =>
        eb.or([
          sql<boolean>`${eb.ref('email')} like ${pattern} escape '\\'`,
          sql<boolean>`${eb.ref('username')} like ${pattern} escape '\\'`,
        ])
      const [rows, count] = await Promise.all([
        db
          .selectFrom('users')
          .selectAll()
          .where(matches)
          .orderBy('created_at')
          .orderBy('id')
          .limit(limit)
          .offset(offset)
          .execute(),
        db
          .selectFrom('users')
          .select((eb) => eb.fn.countAll<string | number>().as('n'))
          .where(matches)
          .executeTakeFirstOrThrow(),
      ])
      return { items: rows.map(toUser), total: Number(count.n) }
    },

    /**
     * Ids of the active superusers, row-locked until the transaction ends on
     * PostgreSQL (SQLite runs one transaction at a time anyway), so two
     * concurrent demotions cannot both see the other as the one that remains.
     */
    async lockActiveSuperuserIds(): Promise<string[]> {
      const q = db
        .selectFrom('users')
        .select('id')
        .where('is_superuser', '=', 1)
        .where('is_active', '=', 1)
        // One lock order for everyone, so two lockers never deadlock.
        .orderBy('id')
      const rows = await (postgres ? q.forUpdate() : q).execute()
      return rows.map((r) => r.id)
    },
  }
}

export type UsersRepo = ReturnType<typeof createUsersRepo>
