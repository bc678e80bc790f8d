import { describe, expect, it } from 'vitest'
import {
  detectFormat,
  ImportFileError,
  parseRows,
  type RawRow,
} from '../../src/services/import/parse.js'
import { parseTimestamp, toNewUser } from '../../src/services/import/rows.js'

async function rows(text: string, format: 'csv' | 'jsonl', chunkSize = 7): Promise<RawRow[]> {
  // Small chunks, so quotes, CRLF and multi-byte characters straddle chunk boundaries.
  async function* chunks() {
    for (let i = 0; i < text.length; i += chunkSize) yield text.slice(i, i + chunkSize)
  }
  const out: RawRow[] = []
  for await (const r of parseRows(chunks(), format)) out.push(r)
  return out
}

async function* once(text: string) {
  yield text
}

describe('import file parsing', () => {
  it('detects the format by extension, else by the first character', () => {
    expect(detectFormat('users.CSV', '{')).toBe('csv')
    expect(detectFormat('users.jsonl', 'email')).toBe('jsonl')
    expect(detectFormat('users.ndjson', '')).toBe('jsonl')
    expect(detectFormat('export.txt', '\uFEFF  {"email":1}')).toBe('jsonl')
    expect(detectFormat('export.txt', 'email,hashed_password')).toBe('csv')
    // A JSON array (json.dump of the rows) by its first character, whatever the name.
    expect(detectFormat('users.json', '\uFEFF [\n  {')).toBe('json')
    expect(detectFormat('users.jsonl', '[{"email"')).toBe('json')
    expect(detectFormat('users.json', '{"email": 1}')).toBe('jsonl')
    expect(detectFormat('users.json', '')).toBe('json')
  })

  it('reads a JSON array, naming each element by the line it starts on', async () => {
    const text = '[\n  {"Email": "a@b.co", "x": "[{,\\"}"},\n\n  {"email":\n "c@d.co"}, 7\n]'
    const out: RawRow[] = []
    for await (const row of parseRows(once(text), 'json')) out.push(row)
    expect(out).toEqual([
      { line: 2, fields: { email: 'a@b.co', x: '[{,"}' } },
      { line: 4, fields: { email: 'c@d.co' } },
      { line: 5, error: 'not a JSON object' },
    ])
    const rowsOf = async (t: string) => {
      for await (const _ of parseRows(once(t), 'json')) {
      }
    }
    await expect(rowsOf('[{"email": ')).rejects.toThrow(/^not valid JSON/)
    await expect(rowsOf('{"email": "a@b.co"}')).rejects.toThrow('expected a JSON array of objects')
  })

  it('reads RFC 4180 CSV: BOM, CRLF, quotes, escaped quotes, newlines in quotes, blank lines', async () => {
    const csv =
      '\uFEFFEmail, Hashed_Password ,username\r\n' +
      'a@example.com,"$x$1,2",ann\r\n' +
      '\r\n' +
      'b@example.com,"say ""hi""\nthere",bé\n' +
      'c@example.com,h,"c"\n' +
      'd@example.com,only-two\n'
    expect(await rows(csv, 'csv')).toEqual([
      { line: 2, fields: { email: 'a@example.com', hashed_password: '$x$1,2', username: 'ann' } },
      {
        line: 4,
        fields: { email: 'b@example.com', hashed_password: 'say "hi"\nthere', username: 'bé' },
      },
      { line: 6, fields: { email: 'c@example.com', hashed_password: 'h', username: 'c' } },
      { line: 7, error: 'expected 3 fields, found 2' },
    ])
  })

  it('reports an unterminated quote, and refuses a header without the required columns', async () => {
    expect(await rows('email,hashed_password\na@b.co,"open\n', 'csv')).toEqual([
      { line: 2, error: 'unterminated quoted field' },
    ])
    await expect(rows('email,password\na@b.co,x\n', 'csv')).rejects.toThrow(
      new ImportFileError('the CSV header has no hashed_password column'),
    )
    await expect(rows('', 'csv')).rejects.toThrow(ImportFileError)
  })

  it('reads JSON lines, numbering lines and naming the broken ones', async () => {
    const text = '{"email":"a@b.co","IS_ACTIVE":false}\r\n\n[1]\n{oops\n{"email":"c@d.co"}'
    expect(await rows(text, 'jsonl', 5)).toEqual([
      { line: 1, fields: { email: 'a@b.co', is_active: false } },
      { line: 3, error: 'not a JSON object' },
      { line: 4, error: 'not valid JSON' },
      { line: 5, fields: { email: 'c@d.co' } },
    ])
  })
})

describe('import row rules', () => {
  it('parses the timestamps databases export, as UTC when no zone is given', () => {
    const cases: [string, string][] = [
      ['2024-03-02T12:00:00Z', '2024-03-02T12:00:00.000Z'],
      ['2024-03-02 12:00:00.123456', '2024-03-02T12:00:00.123Z'],
      ['2024-03-02 12:00:00.5+02', '2024-03-02T10:00:00.500Z'],
      ['2024-03-02T12:00:00-0530', '2024-03-02T17:30:00.000Z'],
      ['2024-03-02', '2024-03-02T00:00:00.000Z'],
    ]
    for (const [raw, iso] of cases) expect(parseTimestamp(raw)?.toISOString(), raw).toBe(iso)
    for (const bad of [
      '2024-02-30',
      '2024-13-01',
      'yesterday',
      '2024-03-02T25:00:00Z',
      '1709380800',
    ])
      expect(parseTimestamp(bad), bad).toBeUndefined()
  })

  it('fills defaults and lists every problem of a row', () => {
    const now = new Date('2026-01-01T00:00:00Z')
    const ok = toNewUser(
      { email: ' A@Example.com ', username: '', hashed_password: 'h' },
      () => undefined,
      now,
    )
    expect(ok.user).toMatchObject({
      email: 'A@Example.com',
      username: null,
      is_active: true,
      is_superuser: false,
      created_at: now,
    })
    const flags = toNewUser(
      { email: 'a@b.co', hashed_password: 'h', is_active: 'F', is_superuser: 1, created_at: '' },
      () => undefined,
      now,
    )
    expect(flags.user).toMatchObject({ is_active: false, is_superuser: true, created_at: now })

    const bad = toNewUser(
      {
        email: 'not-an-email',
        username: 'a@b',
        hashed_password: 'h',
        is_active: 'maybe',
        created_at: 'soon',
      },
      () => 'unsupported' as const,
      now,
    )
    expect(bad.problems).toEqual([
      'email is not a valid address',
      'username must be 3-32 letters, digits, "_", "." or "-"',
      'hashed_password is not a supported or well-formed hash',
      'is_active must be true/false/1/0/t/f',
      'created_at is not an ISO 8601 date',
    ])
    expect(toNewUser({}, () => undefined, now).problems).toEqual([
      'email is missing',
      'hashed_password is missing',
    ])
  })
})
