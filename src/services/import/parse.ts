/**
 * Reads a users export, CSV with a header row or JSON lines, into raw rows that
 * keep their line number, streaming so a large file never sits whole in memory.
 */
export type ImportFormat = 'csv' | 'jsonl'

export interface RawRow {
  /** 1-based line where the row starts in the file */
  line: number
  /** column → value, column names lower-cased; absent when `error` is set */
  fields?: Record<string, unknown>
  /** why the row could not even be read */
  error?: string
}

/** A problem with the file as a whole (no header, missing columns): nothing can be imported. */
export class ImportFileError extends Error {
  override name = 'ImportFileError'
}

export const REQUIRED_COLUMNS = ['email', 'hashed_password'] as const

/** By extension, else by the first character: `{` means JSON lines. */
export function detectFormat(path: string, head: string): ImportFormat {
  const lower = path.toLowerCase()
  if (lower.endsWith('.csv')) return 'csv'
  if (/\.(jsonl|ndjson|json)$/.test(lower)) return 'jsonl'
  return head
    .replace(/^\uFEFF/, '')
    .trimStart()
    .startsWith('{')
    ? 'jsonl'
    : 'csv'
}

export function parseRows(chunks: AsyncIterable<string>, format: ImportFormat) {
  return format === 'csv' ? parseCsv(chunks) : parseJsonLines(chunks)
}

async function* parseJsonLines(chunks: AsyncIterable<string>): AsyncGenerator<RawRow> {
  let lineNo = 0
  for await (const line of lines(chunks)) {
    lineNo++
    if (line.trim() === '') continue
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch {
      yield { line: lineNo, error: 'not valid JSON' }
      continue
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      yield { line: lineNo, error: 'not a JSON object' }
      continue
    }
    const fields: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) fields[k.trim().toLowerCase()] = v
    yield { line: lineNo, fields }
  }
}

async function* lines(chunks: AsyncIterable<string>): AsyncGenerator<string> {
  let rest = ''
  let first = true
  for await (let chunk of chunks) {
    if (first) chunk = chunk.replace(/^\uFEFF/, '')
    first = false
    const parts = (rest + chunk).split('\n')
    rest = parts.pop() ?? ''
    for (const p of parts) yield p.endsWith('\r') ? p.slice(0, -1) : p
  }
  if (rest !== '') yield rest
}

async function* parseCsv(chunks: AsyncIterable<string>): AsyncGenerator<RawRow> {
  let header: string[] | undefined
  for await (const record of csvRecords(chunks)) {
    if (record.error) {
      yield { line: record.line, error: record.error }
      continue
    }
    if (!header) {
      const columns = record.fields.map((f) => f.trim().toLowerCase())
      header = columns
      const missing = REQUIRED_COLUMNS.filter((c) => !columns.includes(c))
      if (missing.length > 0)
        throw new ImportFileError(`the CSV header has no ${missing.join(' or ')} column`)
      continue
    }
    if (record.fields.length !== header.length) {
      yield {
        line: record.line,
        error: `expected ${header.length} fields, found ${record.fields.length}`,
      }
      continue
    }
    const fields: Record<string, unknown> = {}
    header.forEach((name, i) => {
      fields[name] = record.fields[i]
    })
    yield { line: record.line, fields }
  }
  if (!header) throw new ImportFileError('the file is empty')
}

interface CsvRecord {
  line: number
  fields: string[]
  error?: string
}

/** RFC 4180: `,` separated, `"` quoted with `""` escapes, quoted fields may span lines. */
async function* csvRecords(chunks: AsyncIterable<string>): AsyncGenerator<CsvRecord> {
  let fields: string[] = []
  let field = ''
  let quoted = false
  let afterQuote = false
  let line = 1
  let start = 1
  let first = true
  const end = (): CsvRecord | undefined => {
    fields.push(field)
    const record = { line: start, fields }
    const blank = fields.length === 1 && fields[0]?.trim() === ''
    fields = []
    field = ''
    afterQuote = false
    return blank ? undefined : record
  }
  for await (let chunk of chunks) {
    if (first) chunk = chunk.replace(/^\uFEFF/, '')
    first = false
    for (const ch of chunk) {
      if (quoted) {
        if (ch === '"') {
          quoted = false
          afterQuote = true
        } else {
          if (ch === '\n') line++
          field += ch
        }
      } else if (ch === '"') {
        if (afterQuote) {
          // `""` inside a quoted field: an escaped quote, and the field goes on.
          field += '"'
          quoted = true
        } else if (field === '') quoted = true
        else field += '"' // a stray quote inside an unquoted field is text
        afterQuote = false
      } else if (ch === ',') {
        fields.push(field)
        field = ''
        afterQuote = false
      } else if (ch === '\n') {
        const record = end()
        if (record) yield record
        line++
        start = line
      } else if (ch !== '\r') {
        field += ch
        afterQuote = false
      }
    }
  }
  if (quoted) {
    yield { line: start, fields: [], error: 'unterminated quoted field' }
    return
  }
  const record = end()
  if (record) yield record
}
