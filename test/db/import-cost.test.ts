import { describe, expect, it } from 'vitest'
import { systemClock } from '../../src/domain/time.js'
import { createTransact } from '../../src/repos/support/transaction.js'
import { createPasswordHasher } from '../../src/services/crypto/passwords.js'
import { createImportUsersService } from '../../src/services/import/import-users.js'
import { parseRows } from '../../src/services/import/parse.js'
import { buildTestApp } from '../helpers/app.js'

// Issue 14: import-users refuses hashes too costly to verify, by line.
async function* text(s: string) {
  yield s
}

describe('import-users and hash costs', () => {
  it('reports "cost too high" for each absurd hash, by line, and imports none of them', async () => {
    const { database } = await buildTestApp()
    const hasher = createPasswordHasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 }, 1)
    const service = createImportUsersService({
      transact: createTransact(database.db),
      hasher,
      clock: systemClock,
    })
    const rows = [
      ['ok@example.com', `$2b$12$${'a'.repeat(22)}${'b'.repeat(31)}`],
      ['bcrypt@example.com', `$2b$31$${'a'.repeat(22)}${'b'.repeat(31)}`],
      [
        'argon@example.com',
        `$argon2id$v=19$m=4194304,t=100,p=4$${'A'.repeat(22)}$${'A'.repeat(43)}`,
      ],
      ['pbkdf2@example.com', `$pbkdf2-sha256$99999999$${'A'.repeat(22)}$${'A'.repeat(43)}`],
    ]
    const csv = ['email,hashed_password', ...rows.map(([e, h]) => `${e},"${h}"`)].join('\n')
    const report = await service.run(parseRows(text(csv), 'csv'), { skipInvalid: true })
    expect(report.imported).toBe(1)
    expect(report.invalid.map((b) => b.line)).toEqual([3, 4, 5])
    for (const bad of report.invalid)
      expect(`line ${bad.line}: ${bad.reason}`).toMatch(/^line \d: cost too high/)
    await hasher.close()
  })
})
