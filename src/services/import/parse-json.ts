import { ImportFileError, type RawRow } from './import-file.js'

// JSON exports: one object per line, or one array of objects.

function objectRow(line: number, value: unknown): RawRow {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { line, error: 'not a JSON object' }
  }
  const fields: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) fields[k.trim().toLowerCase()] = v
  return { line, fields }
}

export async function* parseJsonArray(chunks: AsyncIterable<string>): AsyncGenerator<RawRow> {
  let text = ''
  for await (const chunk of chunks) text += chunk
  text = text.replace(/^\uFEFF/, '')
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new ImportFileError(`not valid JSON (${(err as Error).message})`)
  }
  if (!Array.isArray(value)) throw new ImportFileError('expected a JSON array of objects')
  const lines = elementLines(text)
  for (const [i, item] of value.entries()) yield objectRow(lines[i] ?? 1, item)
}

/** The line on which each top-level element of a (valid) JSON array starts. */
function elementLines(text: string): number[] {
  const starts: number[] = []
  let line = 1
  let depth = 0
  let inString = false
  let escaped = false
  let expecting = false
  for (const ch of text) {
    if (ch === '\n') line++
    if (inString) {
      if (escaped) escaped = false
      else if (ch === '\\') escaped = true
      else if (ch === '"') inString = false
      continue
    }
    if (depth === 1 && expecting && !/\s/.test(ch) && ch !== ']') {
      starts.push(line)
      expecting = false
    }
    if (ch === '"') inString = true
    else if (ch === '[' || ch === '{') {
      depth++
      if (depth === 1) expecting = true
    } else if (ch === ']' || ch === '}') depth--
    else if (ch === ',' && depth === 1) expecting = true
  }
  return starts
}

export async function* parseJsonLines(chunks: AsyncIterable<string>): AsyncGenerator<RawRow> {
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
    yield objectRow(lineNo, value)
  }
}

async function* lines(chunks: AsyncIterable<string>): AsyncGenerator<string> {
  let rest = ''
  let first = true
  for await (let chunk of chunks) {
    if (first) chunk = chunk.replace(/^\uFEFF/, '')
    first = false
    const parts = (rest + chunk).split('\n')
    rest = parts.pop()!
    for (const p of parts) yield p.endsWith('\r') ? p.slice(0, -1) : p
  }
  if (rest !== '') yield rest
}
