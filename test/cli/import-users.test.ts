import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createDatabase } from '../../src/db/database.js'
import { buildTestApp } from '../helpers/app.js'
import { cliEnv, runKeygate } from '../helpers/cli.js'
import { loginAs } from '../helpers/factories.js'

const FIXTURES = new URL('../fixtures/', import.meta.url)
const fixture = (name: string) => new URL(name, FIXTURES).pathname
const CSV_LINES = readFileSync(fixture('passlib-users.csv'), 'utf8').trimEnd().split('\n')
const HEADER = CSV_LINES[0]!
const GOOD = (n: number) =>
  `good${n}@example.com,good${n},$2b$04$${'a'.repeat(22)}${'b'.repeat(31)},true,false,2024-01-01T00:00:00Z`

/** Counts users through a fresh connection to the CLI's database file. */
async function countUsers(databaseUrl: string): Promise<number> {
  const database = createDatabase(databaseUrl)
  try {
    const row = await database.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow()
    return Number(row.n)
  } finally {
    await database.close()
  }
}

describe('keygate import-users', () => {
  it('imports the passlib CSV and JSONL, then skips every row on a re-run', async () => {
    const { env, databaseUrl } = cliEnv()
    const first = await runKeygate(['import-users', fixture('passlib-users.csv')], env)
    expect(first.stderr).toBe('')
    expect(first.stdout).toBe(
      '26 imported, 0 skipped (email already registered), 0 invalid (26 rows, csv)\n',
    )
    expect(first.code).toBe(0)

    // The same users as JSON lines: all already there, so nothing changes.
    const again = await runKeygate(['import-users', fixture('passlib-users.jsonl')], env)
    expect(again.stdout).toBe(
      '0 imported, 26 skipped (email already registered), 0 invalid (26 rows, jsonl)\n',
    )
    expect(again.code).toBe(0)
    expect(await countUsers(databaseUrl)).toBe(26)

    // And the imported users log in through the API served from that database.
    const { app } = await buildTestApp({}, { database: createDatabase(databaseUrl) })
    await loginAs(app, { email: 'JohnDoe1@example.com', password: 'secret' })
  })

  it('reads what psql \\copy and sqlite3 -csv export (t/f, 1/0, zone-less timestamps)', async () => {
    const { env, databaseUrl } = cliEnv()
    for (const name of ['psql-export.csv', 'sqlite3-export.csv']) {
      const res = await runKeygate(['import-users', fixture(name)], env)
      expect(res.stdout, name).toMatch(/^2 imported, 0 skipped/)
    }
    const database = createDatabase(databaseUrl)
    try {
      const rows = await database.db
        .selectFrom('users')
        .select(['email', 'username', 'is_active', 'is_superuser', 'created_at'])
        .orderBy('email')
        .execute()
      expect(rows).toEqual([
        {
          email: 'lite1@example.com',
          username: 'lite1',
          is_active: 1,
          is_superuser: 0,
          created_at: '2024-03-02T12:00:00.123Z',
        },
        {
          email: 'lite2@example.com',
          username: null,
          is_active: 0,
          is_superuser: 1,
          created_at: '2024-03-02T12:00:00.000Z',
        },
        {
          email: 'pg1@example.com',
          username: 'pg1',
          is_active: 1,
          is_superuser: 0,
          created_at: '2026-11-22T02:34:23.632Z',
        },
        {
          email: 'pg2@example.com',
          username: null,
          is_active: 0,
          is_superuser: 1,
          created_at: '2026-11-22T02:34:23.632Z',
        },
      ])
    } finally {
      await database.close()
    }
  })

  it('imports nothing when any row is bad, and names every bad row by line and reason', async () => {
    const { env, dir, databaseUrl } = cliEnv()
    const file = join(dir, 'users.csv')
    writeFileSync(
      file,
      [
        HEADER,
        GOOD(1),
        'not-an-email,xx1,$2b$04$aaaaaaaaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb,true,false,',
        GOOD(2),
        'good1@EXAMPLE.com,other,$2b$04$aaaaaaaaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb,1,0,',
        'u3@example.com,user3,$md5$not-a-known-format,true,false,',
        'u4@example.com,user4,"$argon2id$v=19$m=65536,t=3,p=4$truncated",true,false,',
        'u5@example.com,good2,$2b$04$aaaaaaaaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb,yes,maybe,',
      ].join('\n'),
    )
    const res = await runKeygate(['import-users', file], env)
    expect(res.code).toBe(1)
    expect(res.stderr).toBe(
      [
        'line 3: email is not a valid address',
        'line 5: duplicate email (first on line 2)',
        'line 6: hashed_password is not a supported or well-formed hash',
        'line 7: hashed_password is not a supported or well-formed hash',
        'line 8: is_superuser must be true/false/1/0/t/f',
        '',
      ].join('\n'),
    )
    expect(res.stdout).toMatch(/^Nothing imported: 5 invalid row\(s\)/)
    // No bad row echoes what it held (a hash is a secret too).
    expect(res.stderr).not.toContain('$md5$')
    expect(await countUsers(databaseUrl)).toBe(0)

    // --skip-invalid: the good rows go in, the rest are reported.
    const skip = await runKeygate(['import-users', file, '--skip-invalid'], env)
    expect(skip.code).toBe(0)
    expect(skip.stdout).toBe(
      '2 imported, 0 skipped (email already registered), 5 invalid (7 rows, csv)\n',
    )
    expect(skip.stderr.split('\n').filter(Boolean)).toHaveLength(5)
    expect(await countUsers(databaseUrl)).toBe(2)
  })

  it('treats a username taken by an existing account as a bad row', async () => {
    const { env, dir } = cliEnv()
    const file = join(dir, 'a.csv')
    writeFileSync(file, `${HEADER}\n${GOOD(1)}\n`)
    expect((await runKeygate(['import-users', file], env)).code).toBe(0)
    writeFileSync(
      file,
      `${HEADER}\n${GOOD(1).replace('good1@', 'someone@').replace(',good1,', ',GOOD1,')}\n`,
    )
    const res = await runKeygate(['import-users', file], env)
    expect(res.stderr).toBe('line 2: username already taken by another account\n')
    expect(res.code).toBe(1)
  })

  it('refuses a file it cannot use, and bad arguments, without touching the database', async () => {
    const { env, dir } = cliEnv()
    const missing = await runKeygate(['import-users', join(dir, 'nope.csv')], env)
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/cannot read .*nope\.csv/)

    const noHeader = join(dir, 'h.csv')
    writeFileSync(noHeader, 'email,password\na@b.co,x\n')
    const header = await runKeygate(['import-users', noHeader], env)
    expect(header.stderr).toMatch(/the CSV header has no hashed_password column; nothing imported/)
    expect(header.code).toBe(1)

    expect((await runKeygate(['import-users'], env)).code).toBe(2)
    expect((await runKeygate(['import-users', noHeader, '--force'], env)).code).toBe(2)
  })

  it('imports 100,000 rows in one transaction, reporting progress', async () => {
    const { env, dir, databaseUrl } = cliEnv()
    const file = join(dir, 'big.jsonl')
    const hash = `$2b$04$${'a'.repeat(22)}${'b'.repeat(31)}`
    const lines: string[] = []
    for (let i = 0; i < 100_000; i++)
      lines.push(
        JSON.stringify({ email: `u${i}@example.com`, username: `user${i}`, hashed_password: hash }),
      )
    writeFileSync(file, `${lines.join('\n')}\n`)

    const started = performance.now()
    const res = await runKeygate(['import-users', file], env)
    const seconds = (performance.now() - started) / 1000
    console.log(`import-users: 100,000 rows in ${seconds.toFixed(1)} s`)
    expect(res.stdout).toBe(
      '100000 imported, 0 skipped (email already registered), 0 invalid (100000 rows, jsonl)\n',
    )
    expect(res.stderr.trim().split('\n')).toEqual(
      Array.from({ length: 10 }, (_, i) => `import-users: ${(i + 1) * 10_000} rows read`),
    )
    expect(await countUsers(databaseUrl)).toBe(100_000)
  }, 120_000)
})
