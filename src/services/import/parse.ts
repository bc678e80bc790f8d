import { ImportFileError, type RawRow } from './import-file.js'
import { parseJsonArray, parseJsonLines } from './parse-json.js'

export { ImportFileError, type RawRow } from './import-file.js'

/**
 * Reads a users export, CSV with a header row, JSON lines or a JSON array, into
 * raw rows that keep their line number. CSV and JSON lines are streamed, so a
 * large file never sits whole in memory; a JSON array (what `json.dump(rows)`
 * writes) is parsed whole.
 */
export type ImportFormat = 'csv' | 'jsonl' | 'json'

export const REQUIRED_COLUMNS = ['email', 'hashed_password'] as const
/** `.csv`, else the first character (`[` a JSON array, `{` JSON lines), else the extension. */
export function detectFormat(path: string, head: string): ImportFormat {
  if (path.toLowerCase().endsWith('.csv')) return 'csv'
  const first = head.replace(/^\uFEFF/, '').trimStart()[0]
  if (first === '[') return 'json'
  if (first === '{') return 'jsonl'
  const lower = path.toLowerCase()
  if (/\.(jsonl|ndjson)$/.test(lower)) return 'jsonl'
  if (lower.endsWith('.json')) return 'json'
  return 'csv'
}

export function parseRows(chunks: AsyncIterable<string>, format: ImportFormat) {
  if (format === 'json') return parseJsonArray(chunks)
  return format === 'csv' ? parseCsv(chunks) : parseJsonLines(chunks)
}

async function* parseCsv(chunks: AsyncIterable<string>): AsyncGenerator<RawRow> {
  let header: string[] | undefined
  for await (const record of csvRecords(chunks)) {
    if (record.error) {
      yield { line: record.line, error: record.error }
      continue
    }
    if (!header) {
      header = record.fields.map((f) => f.trim().toLowerCase())
      const missing = REQUIRED_COLUMNS.filter((c) => !header!.includes(c))
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
    const blank = fields.length === 1 && fields[0]!.trim() === ''
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
