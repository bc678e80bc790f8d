import { createReadStream, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config.js'
import { systemClock } from '../../src/domain/time.js'
import { createUsersRepo } from '../../src/repos/accounts/users.js'
import { createTransact } from '../../src/repos/support/transaction.js'
import { createPasswordHasher } from '../../src/services/crypto/passwords.js'
import { createImportUsersService } from '../../src/services/import/import-users.js'
import { detectFormat, parseRows } from '../../src/services/import/parse.js'
import { buildTestApp } from '../helpers/app.js'
import { form } from '../helpers/factories.js'

const FIXTURES = new URL('../fixtures/', import.meta.url)
const passwords: { email: string; password: string; scheme: string; is_active: boolean }[] =
  JSON.parse(readFileSync(new URL('passlib-users.passwords.json', FIXTURES), 'utf8'))

// Hashes that are already Argon2id at least as strong as the configured default
// (19 MiB, t=2) stay; every other format is replaced after the first good login.
const KEPT = new Set(['argon2_passlib_default', 'argon2id_64m_t3_p4'])

describe.each(['passlib-users.csv', 'passlib-users.jsonl'])('importing %s', (name) => {
  it('lets every user log in with the old password and upgrades exactly the weaker hashes', async () => {
    // Production Argon2 parameters, so "at least as strong as configured" means what it will in use.
    const { argon2 } = loadConfig({})
    const { app, database, config } = await buildTestApp({ argon2 })
    const hasher = createPasswordHasher(config.argon2, config.hashConcurrency)
    const service = createImportUsersService({
      transact: createTransact(database.db),
      hasher,
      clock: systemClock,
    })
    const path = new URL(name, FIXTURES).pathname
    const format = detectFormat(path, '')
    expect(format).toBe(name.endsWith('.csv') ? 'csv' : 'jsonl')

    const report = await service.run(parseRows(createReadStream(path, 'utf8'), format))
    expect(report).toMatchObject({
      rows: 26,
      imported: 26,
      skipped: 0,
      invalid: [],
      committed: true,
    })

    const users = createUsersRepo(database.db)
    const wrongTried = new Set<string>()
    for (const p of passwords) {
      const before = (await users.findByLogin(p.email))!.hashed_password
      const login = (password: string) =>
        app.inject({
          method: 'POST',
          url: '/api/v1/auth/token',
          ...form({ username: p.email, password }),
        })

      // One wrong password per format (unit tests cover each format's failures in depth).
      if (!wrongTried.has(p.scheme)) {
        wrongTried.add(p.scheme)
        const wrong = await login(`x${p.password}`)
        expect(wrong.statusCode, `${p.email} wrong password`).toBe(400)
      }
      const res = await login(p.password)
      const after = (await users.findByLogin(p.email))!.hashed_password
      if (!p.is_active) {
        expect(res.statusCode).toBe(403)
        expect(res.json()).toMatchObject({ detail: 'Inactive user' })
        expect(after).toBe(before)
        continue
      }
      expect(res.statusCode, `${p.email} (${p.scheme}): ${res.body}`).toBe(200)
      if (KEPT.has(p.scheme)) {
        expect(after, p.scheme).toBe(before)
      } else {
        expect(after, p.scheme).not.toBe(before)
        expect(after).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
        // The new hash covers the whole password: the 100-character ones no longer
        // pass with only their first 72 bytes, as they did under bcrypt.
        expect((await hasher.verify(after, p.password)).ok).toBe(true)
        if (Buffer.byteLength(p.password) > 72) {
          const first72 = Buffer.from(p.password).subarray(0, 72).toString()
          expect((await hasher.verify(after, first72)).ok).toBe(false)
        }
      }
    }
  }, 120_000)
})
