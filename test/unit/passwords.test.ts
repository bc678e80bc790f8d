import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config.js'
import { bit, iso } from '../../src/repos/support/row.js'
import { createPasswordHasher } from '../../src/services/crypto/passwords.js'
import { buildTestApp } from '../helpers/app.js'
import { form } from '../helpers/factories.js'
import { must } from '../helpers/must.js'

interface Fixture {
  email: string
  username: string
  scheme: string
  hashed_password: string
  password: string
}

// A copy of the rows of ../shared/fixtures/passlib-users.* that these tests need.
const fixtures: Fixture[] = JSON.parse(
  readFileSync(new URL('../fixtures/passlib-users.json', import.meta.url), 'utf8'),
)
const ofScheme = (scheme: string) =>
  fixtures.filter(
    (f) => f.scheme === scheme || (scheme === 'bcrypt' && f.scheme.startsWith('bcrypt_2')),
  )

const production = loadConfig({}).argon2
const cheap = { memoryCost: 1024, timeCost: 1, parallelism: 1 }

describe('password hashing', () => {
  it('production defaults are the OWASP Argon2id parameters', () => {
    expect(production).toEqual({ memoryCost: 19456, timeCost: 2, parallelism: 1 })
  })

  it('round-trips Argon2id and rejects other passwords', async () => {
    const hasher = createPasswordHasher(cheap, 2)
    const h = await hasher.hash('correct horse battery staple')
    expect(h).toMatch(/^\$argon2id\$v=19\$m=1024,t=1,p=1\$/)
    expect(await hasher.verify(h, 'correct horse battery staple')).toEqual({
      ok: true,
      needsRehash: false,
    })
    expect((await hasher.verify(h, 'correct horse battery stapl')).ok).toBe(false)
    expect((await hasher.verify(h, '')).ok).toBe(false)
    expect(await hasher.hash('same')).not.toBe(await hasher.hash('same'))
  })

  it('hashes with production parameters and keeps the event loop free meanwhile', async () => {
    const hasher = createPasswordHasher(production, 1)
    let ticks = 0
    const timer = setInterval(() => ticks++, 2)
    const started = performance.now()
    let h = ''
    try {
      for (let i = 0; i < 3; i++) h = await hasher.hash(`pw-${i}`)
    } finally {
      clearInterval(timer)
    }
    const elapsed = performance.now() - started
    expect(h).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
    // Hashing on the event loop would leave no turn for the timer at all.
    expect(ticks).toBeGreaterThanOrEqual(3)
    expect(ticks).toBeGreaterThan(elapsed / 2 / 10)
  })

  it('covers the whole password: a shared 72-byte prefix is not enough', async () => {
    const hasher = createPasswordHasher(cheap, 2)
    const prefix = 'p'.repeat(72)
    const h = await hasher.hash(`${prefix}-first`)
    expect((await hasher.verify(h, `${prefix}-first`)).ok).toBe(true)
    expect((await hasher.verify(h, `${prefix}-second`)).ok).toBe(false)
    expect((await hasher.verify(h, prefix)).ok).toBe(false)
    const unicode = 'é'.repeat(36) // 72 UTF-8 bytes
    const u = await hasher.hash(`${unicode}a`)
    expect((await hasher.verify(u, `${unicode}b`)).ok).toBe(false)
  })

  it('verifies passlib bcrypt $2b$/$2a$/$2y$ hashes and asks for a re-hash', async () => {
    const hasher = createPasswordHasher(production, 2)
    const rows = ofScheme('bcrypt')
    expect(new Set(rows.map((r) => r.hashed_password.slice(0, 4)))).toEqual(
      new Set(['$2b$', '$2a$', '$2y$']),
    )
    for (const row of rows) {
      expect(await hasher.verify(row.hashed_password, row.password), row.email).toEqual({
        ok: true,
        needsRehash: true,
      })
      expect((await hasher.verify(row.hashed_password, `${row.password}x`)).ok).toBe(
        Buffer.byteLength(row.password) >= 72,
      )
    }
  })

  it('checks bcrypt against the first 72 UTF-8 bytes, as passlib did', async () => {
    const hasher = createPasswordHasher(cheap, 2)
    const long = ofScheme('bcrypt').filter((r) => r.password.length === 100)
    expect(long).toHaveLength(3)
    for (const row of long) {
      const first72 = Buffer.from(row.password).subarray(0, 72).toString('utf8')
      expect((await hasher.verify(row.hashed_password, first72)).ok).toBe(true)
      expect((await hasher.verify(row.hashed_password, first72.slice(0, 71))).ok).toBe(false)
    }
  })

  it('re-hashes only hashes weaker than configured, never merely different', async () => {
    const hasher = createPasswordHasher(production, 2)
    const strong = must(ofScheme('argon2id_64m_t3_p4')[0])
    const passlibDefault = must(ofScheme('argon2_passlib_default')[0])
    const argon2i = must(ofScheme('argon2i')[0])
    expect(await hasher.verify(strong.hashed_password, strong.password)).toEqual({
      ok: true,
      needsRehash: false,
    })
    expect(await hasher.verify(passlibDefault.hashed_password, passlibDefault.password)).toEqual({
      ok: true,
      needsRehash: false,
    })
    expect(await hasher.verify(argon2i.hashed_password, argon2i.password)).toEqual({
      ok: true,
      needsRehash: true,
    })
    const weak = await createPasswordHasher(cheap, 1).hash('pw')
    expect(await hasher.verify(weak, 'pw')).toEqual({ ok: true, needsRehash: true })
    expect(await hasher.verify(weak, 'nope')).toEqual({ ok: false, needsRehash: false })
  })

  it('treats unknown or broken hashes as a failed verification, never a throw', async () => {
    const hasher = createPasswordHasher(cheap, 2)
    for (const h of ['', 'plain', '$argon2id$garbage', '$2b$12$short', '$1$abc$def']) {
      expect(await hasher.verify(h, 'pw')).toEqual({ ok: false, needsRehash: false })
    }
  })
})

describe('legacy hashes over HTTP', () => {
  async function insertLegacy(
    database: Awaited<ReturnType<typeof buildTestApp>>['database'],
    f: Fixture,
  ) {
    const id = randomUUID()
    const now = iso(new Date())
    await database.db
      .insertInto('users')
      .values({
        id,
        email: f.email,
        email_normalized: f.email.toLowerCase(),
        username: f.username,
        username_normalized: f.username.toLowerCase(),
        hashed_password: f.hashed_password,
        is_active: bit(true),
        is_superuser: bit(false),
        created_at: now,
        updated_at: now,
      })
      .execute()
    return id
  }
  const storedHash = async (
    database: Awaited<ReturnType<typeof buildTestApp>>['database'],
    id: string,
  ) =>
    (
      await database.db
        .selectFrom('users')
        .select('hashed_password')
        .where('id', '=', id)
        .executeTakeFirstOrThrow()
    ).hashed_password

  it('a bcrypt user logs in and the hash becomes Argon2id of the full password', async () => {
    const { app, database } = await buildTestApp()
    const row = ofScheme('bcrypt').find((r) => r.password.length === 100)!
    const id = await insertLegacy(database, row)
    const token = (password: string) =>
      app.inject({
        method: 'POST',
        url: '/api/v1/auth/token',
        ...form({ username: row.email, password }),
      })
    const first72 = Buffer.from(row.password).subarray(0, 72).toString('utf8')

    expect((await token(row.password)).statusCode).toBe(200)
    expect(await storedHash(database, id)).toMatch(/^\$argon2id\$/)
    expect((await token(row.password)).statusCode).toBe(200)
    // Once upgraded, the 72-byte prefix that bcrypt accepted is no longer the password.
    expect((await token(first72)).statusCode).toBe(400)
  })

  it('a wrong password leaves the legacy hash alone', async () => {
    const { app, database } = await buildTestApp()
    const row = must(ofScheme('bcrypt_2y')[0])
    const id = await insertLegacy(database, row)
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: row.username, password: 'wrong-password' },
    })
    expect(res.statusCode).toBe(401)
    expect(await storedHash(database, id)).toBe(row.hashed_password)
  })

  it('a stronger Argon2id hash is kept; argon2i is upgraded', async () => {
    const { app, database } = await buildTestApp({ argon2: production })
    const strong = must(ofScheme('argon2id_64m_t3_p4')[1])
    const legacy = must(ofScheme('argon2i')[1])
    const strongId = await insertLegacy(database, strong)
    const legacyId = await insertLegacy(database, legacy)
    for (const row of [strong, legacy]) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { email: row.email, password: row.password },
      })
      expect(res.statusCode, row.scheme).toBe(200)
    }
    expect(await storedHash(database, strongId)).toBe(strong.hashed_password)
    expect(await storedHash(database, legacyId)).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
  })
})
