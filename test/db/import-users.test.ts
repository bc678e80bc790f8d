import { describe, expect, it } from 'vitest'
import { systemClock } from '../../src/domain/time.js'
import { createUsersRepo } from '../../src/repos/accounts/users.js'
import { createTransact } from '../../src/repos/support/transaction.js'
import { createImportUsersService } from '../../src/services/import/import-users.js'
import { parseRows } from '../../src/services/import/parse.js'
import { buildTestApp } from '../helpers/app.js'

const HASH = `$2b$04$${'a'.repeat(22)}${'b'.repeat(31)}`
const line = (n: number, email = `p${n}@example.com`) =>
  JSON.stringify({ email, username: `person${n}`, hashed_password: HASH, is_superuser: n === 1 })

async function* text(s: string) {
  yield s
}

// The service on this run's dialect (SQLite, or PostgreSQL with KEYGATE_TEST_DB=postgres).
describe('import-users service', () => {
  it('rolls back everything on a bad row, imports the good ones with skipInvalid, and is idempotent', async () => {
    const { database } = await buildTestApp()
    const users = createUsersRepo(database.db)
    const service = createImportUsersService({
      transact: createTransact(database.db),
      hasher: { hashProblem: (h) => (h === HASH ? undefined : 'unsupported') },
      clock: systemClock,
    })
    // 2,500 rows: several insert chunks before the bad row at the end.
    const good = Array.from({ length: 2500 }, (_, i) => line(i + 1))
    const file = [...good, line(9999, 'P1@Example.COM')].join('\n')

    const strict = await service.run(parseRows(text(file), 'jsonl'))
    expect(strict).toMatchObject({ rows: 2501, imported: 0, committed: false })
    expect(strict.invalid).toEqual([{ line: 2501, reason: 'duplicate email (first on line 1)' }])
    expect(await users.findByLogin('p1@example.com')).toBeUndefined()

    const lenient = await service.run(parseRows(text(file), 'jsonl'), { skipInvalid: true })
    expect(lenient).toMatchObject({ imported: 2500, skipped: 0, committed: true })
    expect(await users.findByLogin('PERSON1')).toMatchObject({
      email: 'p1@example.com',
      is_superuser: true,
      is_active: true,
      hashed_password: HASH,
    })

    const rerun = await service.run(parseRows(text(good.join('\n')), 'jsonl'))
    expect(rerun).toMatchObject({ imported: 0, skipped: 2500, invalid: [], committed: true })
    expect((await users.list(1, 0)).total).toBe(2500)
  })
})
