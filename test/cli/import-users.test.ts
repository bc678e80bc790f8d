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
    // Summaries go to stderr: stdout is kept for --json.
    expect(first.stdout).toBe('')
    expect(first.stderr).toBe(
      '26 imported, 0 skipped (email already registered), 0 invalid (26 rows, csv)\n',
    )
    expect(first.code).toBe(0)

    // The same users as JSON lines: all already there, so nothing changes.
    const again = await runKeygate(['import-users', fixture('passlib-users.jsonl')], env)
    expect(again.stderr).toBe(
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
      expect(res.stderr, name).toMatch(/^2 imported, 0 skipped/)
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
    const [listed, summary] = [res.stderr.split('\n').slice(0, 5), res.stderr.split('\n')[5]]
    expect(listed).toEqual([
      'line 3: email is not a valid address',
      'line 5: duplicate email (first on line 2)',
      'line 6: hashed_password is not a supported or well-formed hash',
      'line 7: hashed_password is not a supported or well-formed hash',
      'line 8: is_superuser must be true/false/1/0/t/f',
    ])
    expect(summary).toMatch(/^Nothing imported: 5 invalid row\(s\)/)
    expect(res.stdout).toBe('')
    // No bad row echoes what it held (a hash is a secret too).
    expect(res.stderr).not.toContain('$md5$')
    expect(await countUsers(databaseUrl)).toBe(0)

    // --skip-invalid: the good rows go in, the rest are reported, and the exit
    // status says rows were dropped (a script must not take this for success).
    const skip = await runKeygate(['import-users', file, '--skip-invalid'], env)
    expect(skip.code).toBe(3)
    const lines = skip.stderr.split('\n').filter(Boolean)
    expect(lines).toHaveLength(6)
    expect(lines[5]).toBe(
      '2 imported, 0 skipped (email already registered), 5 invalid (7 rows, csv)',
    )
    expect(await countUsers(databaseUrl)).toBe(2)
  })

  it('lists the first 20 bad rows and counts the rest; --json reports on stdout', async () => {
    const { env, dir } = cliEnv()
    const file = join(dir, 'many-bad.csv')
    const bad = Array.from({ length: 45 }, (_, i) => `bad${i},u${i},$2b$04$x,true,false,`)
    writeFileSync(file, [HEADER, GOOD(1), ...bad].join('\n'))
    const res = await runKeygate(['import-users', file, '--skip-invalid', '--json'], env)
    expect(res.code).toBe(3)
    const stderr = res.stderr.split('\n').filter(Boolean)
    expect(stderr.filter((l) => l.startsWith('line '))).toHaveLength(20)
    expect(stderr).toContain('… and 25 more invalid rows')
    const report = JSON.parse(res.stdout)
    expect(report).toMatchObject({
      format: 'csv',
      rows: 46,
      imported: 1,
      skipped: 0,
      invalid: 45,
      committed: true,
    })
    expect(report.invalidRows).toHaveLength(20)
    expect(report.invalidRows[0]).toMatchObject({
      line: 3,
      reason: expect.stringMatching(/^email/),
    })
  })

  it('reads a JSON array file (json.dump of the rows), whatever its extension', async () => {
    const { env, dir, databaseUrl } = cliEnv()
    // The fixture is pretty-printed, one key per line, with extra keys (ignored).
    const res = await runKeygate(['import-users', fixture('passlib-users.json')], env)
    expect(res.stderr).toMatch(
      /^\d+ imported, 0 skipped \(email already registered\), 0 invalid \(\d+ rows, json\)\n$/,
    )
    expect(res.code).toBe(0)
    const count = await countUsers(databaseUrl)
    expect(count).toBeGreaterThan(10)
    const renamed = join(dir, 'export.txt')
    writeFileSync(renamed, readFileSync(fixture('passlib-users.json')))
    const again = await runKeygate(['import-users', renamed], env)
    expect(again.stderr).toMatch(/^0 imported, \d+ skipped .*, json\)\n$/)
    // A bad element is named by the line it starts on.
    const broken = join(dir, 'broken.json')
    writeFileSync(broken, '[\n  {"email": "x@example.com", "hashed_password": "nope"},\n  42\n]\n')
    const bad = await runKeygate(['import-users', broken], env)
    expect(bad.stderr).toMatch(/^line 2: hashed_password .*\nline 3: not a JSON object\n/)
    expect(bad.code).toBe(1)
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
    expect(res.stderr).toMatch(
      /^line 2: username already taken by another account\nNothing imported/,
    )
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
    const out = res.stderr.trim().split('\n')
    expect(out.pop()).toBe(
      '100000 imported, 0 skipped (email already registered), 0 invalid (100000 rows, jsonl)',
    )
    // Progress knows the total (counted before the import) and the rate so far.
    expect(out).toHaveLength(10)
    out.forEach((line, i) => {
      const n = (i + 1) * 10_000
      expect(line).toMatch(
        new RegExp(`^import-users: ${n}/100000 rows \\(${n / 1000}%\\), [\\d,]+ rows/s$`),
      )
    })
    expect(await countUsers(databaseUrl)).toBe(100_000)
  }, 120_000)
})
