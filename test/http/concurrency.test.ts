import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { createDatabase, type Database } from '../../src/db/database.js'
import { buildTestApp } from '../helpers/app.js'
import { createTestDatabase, testDialect } from '../helpers/db.js'
import { createPost, createUser, loginAs, randomEmail } from '../helpers/factories.js'
import { must } from '../helpers/must.js'

/**
 * Two handles on one database, so two app instances really race: a temp-file
 * SQLite opened twice (two connections), or one PostgreSQL schema.
 */
async function sharedDatabase(): Promise<[Database, Database]> {
  if (testDialect === 'postgres') {
    const database = await createTestDatabase()
    return [database, database]
  }
  const dir = mkdtempSync(join(tmpdir(), 'keygate-race-'))
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
  const url = `sqlite:${join(dir, 'race.db')}`
  return [createDatabase(url), createDatabase(url)]
}

async function twoInstances() {
  const [a, b] = await sharedDatabase()
  const first = await buildTestApp({}, { database: a })
  const second = await buildTestApp({}, { database: b })
  return [first.app, second.app] as const
}

describe(`concurrency (${testDialect})`, () => {
  it('20 simultaneous signups with one email: exactly one 201 and nineteen 409', async () => {
    const apps = await twoInstances()
    const email = randomEmail()
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        must(apps[i % 2]).inject({
          method: 'POST',
          url: '/api/v1/auth/signup',
          payload: {
            email: i % 4 === 3 ? email.toUpperCase() : email,
            password: `Pw-race-${i}-xyz`,
          },
        }),
      ),
    )
    const statuses = responses.map((r) => r.statusCode).sort()
    expect(statuses).toEqual([201, ...new Array(19).fill(409)])
    for (const r of responses.filter((r) => r.statusCode === 409)) {
      expect(r.json()).toEqual({ detail: 'Email already registered' })
    }
  })

  it('20 simultaneous signups with one username: one 201, the rest 409', async () => {
    const apps = await twoInstances()
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        must(apps[i % 2]).inject({
          method: 'POST',
          url: '/api/v1/auth/signup',
          payload: {
            email: randomEmail(),
            username: i % 2 ? 'Racer' : 'racer',
            password: `Pw-race-${i}-xyz`,
          },
        }),
      ),
    )
    expect(responses.filter((r) => r.statusCode === 201)).toHaveLength(1)
    const conflicts = responses.filter((r) => r.statusCode === 409)
    expect(conflicts).toHaveLength(19)
    for (const r of conflicts) expect(r.json()).toEqual({ detail: 'Username already taken' })
  })

  it('parallel edits of different fields never lose the post', async () => {
    const [a, b] = await twoInstances()
    const user = await createUser(a)
    const { headers } = await loginAs(a, user)
    const post = await createPost(a, headers, { title: 'start', content: 'start' })
    const patches = Array.from({ length: 21 }, (_, i) =>
      i % 3 === 0
        ? { title: `title-${i}` }
        : i % 3 === 1
          ? { content: `content-${i}` }
          : { published: i % 2 === 0 },
    )
    const responses = await Promise.all(
      patches.map((payload, i) =>
        (i % 2 ? a : b).inject({
          method: 'PATCH',
          url: `/api/v1/posts/${post.id}`,
          headers,
          payload,
        }),
      ),
    )
    for (const r of responses) {
      expect(r.statusCode, r.body).toBe(200)
      expect(r.json()).toMatchObject({ id: post.id, owner_id: user.id })
    }
    // The owner reads it: if the last edit made it a draft, anyone else gets 404.
    const final = await b.inject({ method: 'GET', url: `/api/v1/posts/${post.id}`, headers })
    expect(final.statusCode).toBe(200)
    const body = final.json()
    expect(patches.map((p) => p.title).filter(Boolean)).toContain(body.title)
    expect(patches.map((p) => p.content).filter(Boolean)).toContain(body.content)
    expect(typeof body.published).toBe('boolean')
    const list = await a.inject({ method: 'GET', url: '/api/v1/posts', headers })
    expect(list.json().total).toBe(1)
  })
})
