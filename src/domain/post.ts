/** A blog post: Keygate's own protected resource (SPEC §3 posts). */
export interface Post {
  id: string
  owner_id: string
  title: string
  content: string
  published: boolean
  created_at: Date
  updated_at: Date
}
