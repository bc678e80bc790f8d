import { createReadStream } from 'node:fs'
import { open, readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import type { ImportReport } from '../services/import/import-users.js'
import {
  detectFormat,
  ImportFileError,
  type ImportFormat,
  parseRows,
} from '../services/import/parse.js'
import { type Command, type CommandContext, printJson } from './command.js'
import { withDeps } from './compose.js'

const USAGE = 'keygate import-users FILE [--skip-invalid] [--json]'
/** bad rows listed one by one; the rest are counted */
const LISTED = 20
/** exit code when --skip-invalid imported the good rows but dropped others */
const EXIT_ROWS_DROPPED = 3

export const importUsersCommand: Command = {
  summary:
    'Import users from a FastAPI/passlib app (CSV, JSON lines or a JSON array), keeping their password hashes',
  usage: `${USAGE}

  FILE            columns email, username, hashed_password[, is_active, is_superuser, created_at]
                  as CSV with a header row, JSON lines, or one JSON array of objects
                  (recognised by the first character; .csv is always CSV)
  --skip-invalid  import the valid rows and report the rest (default: one bad row imports nothing)
  --json          print the report as JSON on stdout (progress and messages stay on stderr)

Progress, the first ${LISTED} bad rows and the summary go to stderr.
Exit status: 0 all imported or already there; 1 nothing imported (bad rows, unreadable
file); ${EXIT_ROWS_DROPPED} imported, but --skip-invalid dropped bad rows.
Existing emails (compared case-insensitively) are skipped, so a re-run is safe.
Hashes: bcrypt ($2a$/$2b$/$2y$), $bcrypt-sha256$, $pbkdf2-sha256$ (also -sha512, sha1),
$argon2id$, $argon2i$. Each is replaced by Argon2id on the user's first login.`,
  async run(ctx: CommandContext) {
    let parsed: ReturnType<typeof parseImportArgs>
    try {
      parsed = parseImportArgs(ctx.args)
    } catch (err) {
      ctx.stderr.write(`keygate import-users: ${(err as Error).message}\nUsage: ${USAGE}\n`)
      return 2
    }
    const { file } = parsed
    let format: ImportFormat
    let total: number | undefined
    try {
      format = detectFormat(file, await head(file))
      total = await countRows(file, format)
    } catch (err) {
      ctx.stderr.write(`keygate import-users: cannot read ${file}: ${(err as Error).message}\n`)
      return 1
    }
    return withDeps(ctx.config(), async (deps) => {
      const started = performance.now()
      const progress = (n: number) => {
        const rate = Math.round(n / ((performance.now() - started) / 1000))
        const of = total ? `/${total} rows (${Math.floor((100 * n) / total)}%)` : ' rows'
        ctx.stderr.write(`import-users: ${n}${of}, ${rate.toLocaleString('en')} rows/s\n`)
      }
      try {
        const rows = parseRows(createReadStream(file, { encoding: 'utf8' }), format)
        const report = await deps.services.importUsers.run(rows, {
          skipInvalid: parsed.skipInvalid,
          onProgress: progress,
        })
        return finish(ctx, parsed, format, report)
      } catch (err) {
        if (!(err instanceof ImportFileError)) throw err
        ctx.stderr.write(`keygate import-users: ${file}: ${err.message}; nothing imported\n`)
        return 1
      }
    })
  },
}

function finish(
  ctx: CommandContext,
  args: ReturnType<typeof parseImportArgs>,
  format: ImportFormat,
  report: ImportReport,
): number {
  const bad = report.invalid
  for (const row of bad.slice(0, LISTED)) ctx.stderr.write(`line ${row.line}: ${row.reason}\n`)
  if (bad.length > LISTED) ctx.stderr.write(`… and ${bad.length - LISTED} more invalid rows\n`)
  if (args.json) {
    const { rows, imported, skipped, committed } = report
    printJson(ctx.stdout, {
      file: args.file,
      format,
      rows,
      imported,
      skipped,
      invalid: bad.length,
      committed,
      invalidRows: bad.slice(0, LISTED),
    })
  }
  if (!report.committed) {
    ctx.stderr.write(
      `Nothing imported: ${bad.length} invalid row(s). Fix them, or re-run with --skip-invalid to import the valid rows.\n`,
    )
    return 1
  }
  ctx.stderr.write(
    `${report.imported} imported, ${report.skipped} skipped (email already registered), ${bad.length} invalid (${report.rows} rows, ${format})\n`,
  )
  return bad.length > 0 ? EXIT_ROWS_DROPPED : 0
}

async function head(path: string): Promise<string> {
  const file = await open(path)
  try {
    const { buffer, bytesRead } = await file.read(Buffer.alloc(64), 0, 64, 0)
    return buffer.subarray(0, bytesRead).toString('utf8')
  } finally {
    await file.close()
  }
}

/** Rows in the file, for progress: non-blank lines (less CSV's header), or the array's length. */
async function countRows(path: string, format: ImportFormat): Promise<number | undefined> {
  if (format === 'json') {
    try {
      const value: unknown = JSON.parse(await readFile(path, 'utf8'))
      return Array.isArray(value) ? value.length : undefined
    } catch {
      return undefined // the import itself says what is wrong with the file
    }
  }
  let count = 0
  let blank = true
  for await (const chunk of createReadStream(path)) {
    for (const byte of chunk as Buffer) {
      if (byte === 10) {
        if (!blank) count++
        blank = true
      } else if (byte !== 13 && byte !== 32) blank = false
    }
  }
  if (!blank) count++
  return format === 'csv' ? Math.max(0, count - 1) : count
}

function parseImportArgs(args: string[]) {
  const { values, positionals } = parseArgs({
    args,
    options: { 'skip-invalid': { type: 'boolean' }, json: { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  })
  if (positionals.length !== 1) throw new Error('expected exactly one FILE')
  return {
    file: positionals[0]!,
    skipInvalid: values['skip-invalid'] === true,
    json: values.json === true,
  }
}
