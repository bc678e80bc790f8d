import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { bit } from '../../src/repos/support/row.js'
import { buildTestApp } from '../helpers/app.js'
import { createPost, createUser, loginAs } from '../helpers/factories.js'

const POST_KEYS = ['content', 'created_at', 'id', 'owner_id', 'published', 'title', 'updated_at']

async function twoUsers() {
  const t = await buildTestApp()
  const owner = await createUser(t.app)
  const other = await createUser(t.app)
  return {
    ...t,
    owner,
    other,
    ownerHeaders: (await loginAs(t.app, owner)).headers,
    otherHeaders: (await loginAs(t.app, other)).headers,
  }
}

describe('GET /api/v1/posts', () => {
  it('is public, newest first, {items,total}, paginated', async () => {
    const { app, clock, ownerHeaders } = await twoUsers()
    const ids: string[] = []
    for (let i = 0; i < 5; i++) {
      ids.push((await createPost(app, ownerHeaders, { title: `post ${i}` })).id)
      clock.advanceSeconds(1)
    }
    const all = await app.inject({ method: 'GET', url: '/api/v1/posts' })
    expect(all.statusCode).toBe(200)
    expect(all.json().total).toBe(5)
    expect(all.json().items.map((p: { id: string }) => p.id)).toEqual([...ids].reverse())
    expect(Object.keys(all.json().items[0]).sort()).toEqual(POST_KEYS)
    const page = await app.inject({ method: 'GET', url: '/api/v1/posts?limit=2&offset=1' })
    expect(page.json().total).toBe(5)
    expect(page.json().items.map((p: { id: string }) => p.id)).toEqual([ids[3], ids[2]])
    const past = await app.inject({ method: 'GET', url: '/api/v1/posts?offset=50' })
    expect(past.json()).toEqual({ items: [], total: 5 })
    const max = await app.inject({ method: 'GET', url: '/api/v1/posts?limit=100' })
    expect(max.statusCode).toBe(200)
    const far = await app.inject({ method: 'GET', url: '/api/v1/posts?offset=2147483647' })
    expect(far.json()).toEqual({ items: [], total: 5 })
  })

  it('422 for bad limit/offset', async () => {
    const { app } = await buildTestApp()
    const bad = ['limit=101', 'limit=0', 'limit=-1', 'offset=-1', 'limit=abc', 'limit=1.5']
    for (const q of [...bad, 'offset=99999999999999999999', 'limit=1&limit=2']) {
      const res = await app.inject({ method: 'GET', url: `/api/v1/posts?${q}` })
      expect(res.statusCode, q).toBe(422)
      expect(res.json().detail[0].loc[0]).toBe('query')
    }
  })
})

describe('GET /api/v1/posts/:id', () => {
  it('returns a post, 404 for an unknown id, 422 for a non-uuid', async () => {
    const { app, owner, ownerHeaders } = await twoUsers()
    const post = await createPost(app, ownerHeaders, { title: 'T', content: 'C' })
    const res = await app.inject({ method: 'GET', url: `/api/v1/posts/${post.id}` })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ id: post.id, title: 'T', content: 'C', owner_id: owner.id })
    const missing = await app.inject({ method: 'GET', url: `/api/v1/posts/${randomUUID()}` })
    expect(missing.statusCode).toBe(404)
    expect(missing.json()).toEqual({ detail: 'Post not found' })
    const bad = await app.inject({ method: 'GET', url: '/api/v1/posts/not-a-uuid' })
    expect(bad.statusCode).toBe(422)
    expect(bad.json().detail[0].loc).toEqual(['path', 'id'])
  })
})

describe('POST /api/v1/posts', () => {
  it('401 without a token, with the bearer challenge', async () => {
    const { app } = await buildTestApp()
    const res = await app.inject({ method: 'POST', url: '/api/v1/posts', payload: { title: 'x' } })
    expect(res.statusCode).toBe(401)
    expect(res.json()).toEqual({ detail: 'Not authenticated' })
    expect(res.headers['www-authenticate']).toBe('Bearer realm="keygate"')
  })

  it('201 with Location; defaults content "" and published true', async () => {
    const { app, owner, ownerHeaders } = await twoUsers()
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/posts',
      headers: ownerHeaders,
      payload: { title: 'Only a title', owner_id: randomUUID(), id: randomUUID() },
    })
    expect(res.statusCode).toBe(201)
    const post = res.json()
    expect(Object.keys(post).sort()).toEqual(POST_KEYS)
    expect(post).toMatchObject({ title: 'Only a title', content: '', published: true })
    expect(post.owner_id).toBe(owner.id)
    expect(res.headers.location).toBe(`/api/v1/posts/${post.id}`)
    expect(post.created_at).toBe(post.updated_at)
  })

  it('title 1–200 and content ≤ 60000; 422 otherwise', async () => {
    const { app, ownerHeaders } = await twoUsers()
    const create = (payload: Record<string, unknown>) =>
      app.inject({ method: 'POST', url: '/api/v1/posts', headers: ownerHeaders, payload })
    expect((await create({ title: 'a' })).statusCode).toBe(201)
    expect((await create({ title: 't'.repeat(200), content: 'c'.repeat(60_000) })).statusCode).toBe(
      201,
    )
    for (const [name, payload] of [
      ['empty title', { title: '' }],
      ['title 201', { title: 't'.repeat(201) }],
      ['content 60001', { title: 't', content: 'c'.repeat(60_001) }],
      ['no title', { content: 'c' }],
      ['numeric title', { title: 5 }],
      ['string published', { title: 't', published: 'yes' }],
    ] as const) {
      const res = await create(payload)
      expect(res.statusCode, name).toBe(422)
      expect(Array.isArray(res.json().detail)).toBe(true)
    }
  })
})

describe('PATCH and DELETE /api/v1/posts/:id', () => {
  it('the owner may edit; updated_at moves, created_at stays', async () => {
    const { app, clock, ownerHeaders } = await twoUsers()
    const post = await createPost(app, ownerHeaders)
    clock.advanceSeconds(60)
    const res = await app.inject({
      method: 'PATCH',
      url: `/api/v1/posts/${post.id}`,
      headers: ownerHeaders,
      payload: { title: 'Edited', published: false },
    })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ title: 'Edited', content: post.content, published: false })
    expect(res.json().created_at).toBe(post.created_at)
    expect(new Date(res.json().updated_at).getTime()).toBe(
      new Date(post.updated_at).getTime() + 60_000,
    )
    // Now a draft: its owner still reads it (posts-drafts.test.ts covers everyone else).
    const again = await app.inject({
      method: 'GET',
      url: `/api/v1/posts/${post.id}`,
      headers: ownerHeaders,
    })
    expect(again.json().title).toBe('Edited')
  })

  it('another user gets 403 and changes nothing; 404 for unknown ids; 401 without token', async () => {
    const { app, ownerHeaders, otherHeaders } = await twoUsers()
    const post = await createPost(app, ownerHeaders, { title: 'Mine' })
    const url = `/api/v1/posts/${post.id}`
    const patch = await app.inject({
      method: 'PATCH',
      url,
      headers: otherHeaders,
      payload: { title: 'x' },
    })
    expect(patch.statusCode).toBe(403)
    expect(patch.json()).toEqual({ detail: 'Not enough permissions' })
    const del = await app.inject({ method: 'DELETE', url, headers: otherHeaders })
    expect(del.statusCode).toBe(403)
    expect((await app.inject({ method: 'GET', url })).json().title).toBe('Mine')

    const unknown = `/api/v1/posts/${randomUUID()}`
    for (const method of ['PATCH', 'DELETE'] as const) {
      const res = await app.inject({
        method,
        url: unknown,
        headers: ownerHeaders,
        payload: { title: 'x' },
      })
      expect(res.statusCode, method).toBe(404)
      expect(res.json()).toEqual({ detail: 'Post not found' })
      const anon = await app.inject({ method, url, payload: { title: 'x' } })
      expect(anon.statusCode, method).toBe(401)
    }
    const bad = await app.inject({
      method: 'PATCH',
      url,
      headers: ownerHeaders,
      payload: { title: '' },
    })
    expect(bad.statusCode).toBe(422)
  })

  it('the owner may delete: 204 with no body, then 404', async () => {
    const { app, ownerHeaders } = await twoUsers()
    const post = await createPost(app, ownerHeaders)
    const url = `/api/v1/posts/${post.id}`
    const res = await app.inject({ method: 'DELETE', url, headers: ownerHeaders })
    expect(res.statusCode).toBe(204)
    expect(res.body).toBe('')
    expect((await app.inject({ method: 'GET', url })).statusCode).toBe(404)
    expect((await app.inject({ method: 'DELETE', url, headers: ownerHeaders })).statusCode).toBe(
      404,
    )
  })

  it('a superuser may edit and delete anyone’s post', async () => {
    const { app, database, other, ownerHeaders, otherHeaders } = await twoUsers()
    await database.db
      .updateTable('users')
      .set({ is_superuser: bit(true) })
      .where('id', '=', other.id)
      .execute()
    const post = await createPost(app, ownerHeaders)
    const url = `/api/v1/posts/${post.id}`
    const patch = await app.inject({
      method: 'PATCH',
      url,
      headers: otherHeaders,
      payload: { content: 'moderated' },
    })
    expect(patch.statusCode).toBe(200)
    expect(patch.json().content).toBe('moderated')
    expect(patch.json().owner_id).toBe(post.owner_id)
    expect((await app.inject({ method: 'DELETE', url, headers: otherHeaders })).statusCode).toBe(
      204,
    )
  })
})
