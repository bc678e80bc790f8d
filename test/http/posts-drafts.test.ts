import { describe, expect, it } from 'vitest'
import { bit } from '../../src/repos/support/row.js'
import { buildTestApp } from '../helpers/app.js'
import { createPost, createUser, loginAs } from '../helpers/factories.js'

// Issue 14, medium 5: `published: false` is a draft, seen only by its owner and superusers.
async function withDraft() {
  const t = await buildTestApp()
  const [owner, other, admin] = [
    await createUser(t.app),
    await createUser(t.app),
    await createUser(t.app),
  ]
  await t.database.db
    .updateTable('users')
    .set({ is_superuser: bit(true) })
    .where('id', '=', admin.id)
    .execute()
  const headers = {
    owner: (await loginAs(t.app, owner)).headers,
    other: (await loginAs(t.app, other)).headers,
    admin: (await loginAs(t.app, admin)).headers,
    anonymous: {},
  }
  const published = await createPost(t.app, headers.owner, { title: 'public' })
  const draft = await createPost(t.app, headers.owner, { title: 'draft', published: false })
  const othersPost = await createPost(t.app, headers.other, { title: 'other' })
  return { ...t, headers, published, draft, othersPost }
}

const ids = (body: { items: { id: string }[] }) => body.items.map((p) => p.id).sort()

describe('drafts (published: false)', () => {
  it('are listed only for their owner and superusers', async () => {
    const { app, headers, published, draft, othersPost } = await withDraft()
    const list = (h: Record<string, string>) =>
      app.inject({ method: 'GET', url: '/api/v1/posts', headers: h })
    const everyone = [published.id, othersPost.id].sort()
    const all = [published.id, draft.id, othersPost.id].sort()
    for (const [who, expected] of [
      ['anonymous', everyone],
      ['other', everyone],
      ['owner', all],
      ['admin', all],
    ] as const) {
      const res = await list(headers[who])
      expect(res.statusCode, who).toBe(200)
      expect(ids(res.json()), who).toEqual(expected)
      expect(res.json().total, who).toBe(expected.length)
    }
  })

  it('are 404 by id to anyone but their owner and superusers, for reads and writes', async () => {
    const { app, headers, draft } = await withDraft()
    const url = `/api/v1/posts/${draft.id}`
    for (const who of ['anonymous', 'other'] as const) {
      const get = await app.inject({ method: 'GET', url, headers: headers[who] })
      expect(get.statusCode, who).toBe(404)
      expect(get.json()).toEqual({ detail: 'Post not found' })
    }
    const patch = { method: 'PATCH' as const, url, payload: { title: 'x' } }
    expect((await app.inject({ ...patch, headers: headers.other })).statusCode).toBe(404)
    expect((await app.inject({ method: 'DELETE', url, headers: headers.other })).statusCode).toBe(
      404,
    )
    for (const who of ['owner', 'admin'] as const) {
      const get = await app.inject({ method: 'GET', url, headers: headers[who] })
      expect(get.statusCode, who).toBe(200)
      expect(get.json().published).toBe(false)
    }
  })

  it('publishing a draft makes it visible to everyone; unpublishing hides it again', async () => {
    const { app, headers, draft } = await withDraft()
    const url = `/api/v1/posts/${draft.id}`
    const publish = (published: boolean) =>
      app.inject({ method: 'PATCH', url, headers: headers.owner, payload: { published } })
    expect((await publish(true)).statusCode).toBe(200)
    expect((await app.inject({ method: 'GET', url })).statusCode).toBe(200)
    expect((await publish(false)).statusCode).toBe(200)
    expect((await app.inject({ method: 'GET', url })).statusCode).toBe(404)
  })

  it('the public routes refuse a bearer token that is sent but invalid (401)', async () => {
    const { app, published } = await withDraft()
    for (const url of ['/api/v1/posts', `/api/v1/posts/${published.id}`]) {
      const bad = await app.inject({
        method: 'GET',
        url,
        headers: { authorization: 'Bearer not-a-token' },
      })
      expect(bad.statusCode, url).toBe(401)
      expect(bad.json()).toEqual({ detail: 'Could not validate credentials' })
      expect(bad.headers['www-authenticate']).toContain('error="invalid_token"')
      expect((await app.inject({ method: 'GET', url })).statusCode, url).toBe(200)
    }
  })

  it('are described in the OpenAPI document, with the bearer optional', async () => {
    const { app } = await buildTestApp()
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json()
    for (const path of ['/api/v1/posts/', '/api/v1/posts/{id}']) {
      const op = doc.paths[path]?.get ?? doc.paths[path.replace(/\/$/, '')]?.get
      expect(op.description, path).toMatch(/draft/i)
      expect(op.security, path).toContainEqual({})
    }
  })
})
