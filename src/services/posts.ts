import { randomUUID } from 'node:crypto'
import type { Post } from '../domain/post.js'
import type { Clock } from '../domain/time.js'
import type { User } from '../domain/user.js'
import { KeygateError } from '../errors.js'
import type { PostChanges, PostsRepo } from '../repos/posts.js'

export interface PostInput {
  title: string
  content?: string
  published?: boolean
}

/** Owners and superusers may change a post; everyone else may only read it. */
const mayEdit = (user: User, post: Post) => user.is_superuser || post.owner_id === user.id

/**
 * `published: false` makes a draft: only its owner and superusers see it. To
 * anyone else it does not exist (404, never 403), so its id reveals nothing.
 */
const maySee = (viewer: User | null, post: Post) =>
  post.published || (viewer !== null && mayEdit(viewer, post))

export function createPostsService(deps: { clock: Clock; posts: PostsRepo }) {
  const { clock, posts } = deps

  /** The post `viewer` (null: anonymous) may see; POST_NOT_FOUND for a draft of someone else's. */
  async function find(viewer: User | null, id: string): Promise<Post> {
    const post = await posts.findById(id)
    if (!post || !maySee(viewer, post)) throw new KeygateError('POST_NOT_FOUND')
    return post
  }

  return {
    /** Published posts and the viewer's own drafts; every post for a superuser. */
    list: (viewer: User | null, limit: number, offset: number) =>
      posts.list(limit, offset, viewer?.is_superuser ? undefined : { ownerId: viewer?.id ?? null }),

    get: find,

    async create(owner: User, input: PostInput): Promise<Post> {
      const now = clock.now()
      return posts.insert({
        id: randomUUID(),
        owner_id: owner.id,
        title: input.title,
        content: input.content ?? '',
        published: input.published ?? true,
        created_at: now,
        updated_at: now,
      })
    },

    async update(user: User, id: string, changes: PostChanges): Promise<Post> {
      const post = await find(user, id)
      if (!mayEdit(user, post)) throw new KeygateError('NOT_YOUR_POST')
      const updated = await posts.update(id, changes, clock.now())
      if (!updated) throw new KeygateError('POST_NOT_FOUND')
      return updated
    },

    async remove(user: User, id: string): Promise<void> {
      const post = await find(user, id)
      if (!mayEdit(user, post)) throw new KeygateError('NOT_YOUR_POST')
      await posts.delete(id)
    },
  }
}
