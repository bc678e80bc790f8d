import type { ExpressionBuilder, Kysely, Selectable } from 'kysely'
import type { DB, PostsTable } from '../db/schema.js'
import type { Post } from '../domain/post.js'
import { bit, iso, toBool, toDate } from './support/row.js'

export interface PostChanges {
  title?: string
  content?: string
  published?: boolean
}

function toPost(row: Selectable<PostsTable>): Post {
  return {
    ...row,
    published: toBool(row.published),
    created_at: toDate(row.created_at),
    updated_at: toDate(row.updated_at),
  }
}

export function createPostsRepo(db: Kysely<DB>) {
  return {
    async insert(post: Post): Promise<Post> {
      await db
        .insertInto('posts')
        .values({
          ...post,
          published: bit(post.published),
          created_at: iso(post.created_at),
          updated_at: iso(post.updated_at),
        })
        .execute()
      return post
    },

    async findById(id: string): Promise<Post | undefined> {
      const row = await db.selectFrom('posts').selectAll().where('id', '=', id).executeTakeFirst()
      return row && toPost(row)
    },

    /**
     * A page of posts, newest first. `visibleTo` narrows it to published posts
     * plus that user's own drafts; undefined lists every post (superusers).
     */
    async list(
      limit: number,
      offset: number,
      visibleTo: { ownerId: string | null } | undefined,
    ): Promise<{ items: Post[]; total: number }> {
      const ownerId = visibleTo?.ownerId ?? null
      const visible = (eb: ExpressionBuilder<DB, 'posts'>) =>
        ownerId === null
          ? eb('published', '=', bit(true))
          : eb.or([eb('published', '=', bit(true)), eb('owner_id', '=', ownerId)])
      const [rows, count] = await Promise.all([
        db
          .selectFrom('posts')
          .selectAll()
          .$if(visibleTo !== undefined, (q) => q.where(visible))
          .orderBy('created_at', 'desc')
          .orderBy('id', 'desc')
          .limit(limit)
          .offset(offset)
          .execute(),
        db
          .selectFrom('posts')
          .select((eb) => eb.fn.countAll<string | number>().as('n'))
          .$if(visibleTo !== undefined, (q) => q.where(visible))
          .executeTakeFirstOrThrow(),
      ])
      return { items: rows.map(toPost), total: Number(count.n) }
    },

    /** One UPDATE of only the given columns, so concurrent edits of other fields are not lost. */
    async update(id: string, changes: PostChanges, now: Date): Promise<Post | undefined> {
      await db
        .updateTable('posts')
        .set({
          ...(changes.title !== undefined && { title: changes.title }),
          ...(changes.content !== undefined && { content: changes.content }),
          ...(changes.published !== undefined && { published: bit(changes.published) }),
          updated_at: iso(now),
        })
        .where('id', '=', id)
        .execute()
      return this.findById(id)
    },

    async delete(id: string): Promise<void> {
      await db.deleteFrom('posts').where('id', '=', id).execute()
    },
  }
}

export type PostsRepo = ReturnType<typeof createPostsRepo>
