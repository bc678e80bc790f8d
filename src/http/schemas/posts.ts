import { type Static, Type } from 'typebox'
import type { Post } from '../../domain/post.js'
import { Page, Uuid } from './common.js'

const Title = Type.String({ minLength: 1, maxLength: 200 })
const Content = Type.String({ maxLength: 60_000 })

export const PostIn = Type.Object({
  title: Title,
  content: Type.Optional(Content),
  published: Type.Optional(Type.Boolean()),
})

export const PostPatch = Type.Object({
  title: Type.Optional(Title),
  content: Type.Optional(Content),
  published: Type.Optional(Type.Boolean()),
})

export const PostOut = Type.Object({
  id: Uuid,
  title: Type.String(),
  content: Type.String(),
  published: Type.Boolean(),
  owner_id: Uuid,
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
})
export type PostOut = Static<typeof PostOut>
export const PostPage = Page(PostOut)

export function toPostOut(post: Post): PostOut {
  return {
    id: post.id,
    title: post.title,
    content: post.content,
    published: post.published,
    owner_id: post.owner_id,
    created_at: post.created_at.toISOString(),
    updated_at: post.updated_at.toISOString(),
  }
}
