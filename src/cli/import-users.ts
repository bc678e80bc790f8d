import { createReadStream } from 'node:fs'
import { open } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { createImportUsersService } from '../services/import/import-users.js'
import { detectFormat, ImportFileError, parseRows } from '../services/import/parse.js'
import type { Command, CommandContext } from './index.js'
import { openDeps } from './open-deps.js'

const USAGE = 'keygate import-users FILE [--skip-invalid]'

async function head(path: string): Promise<string> {
  const file = await open(path)
  try {
    const { buffer, bytesRead } = await file.read(Buffer.alloc(64), 0, 64, 0)
    return buffer.subarray(0, bytesRead).toString('utf8')
  } finally {
    await file.close()
  }
}

export const importUsersCommand: Command = {
  summary:
    'Import users from a FastAPI/passlib app (CSV or JSON lines), keeping their password hashes',
  usage: `${USAGE}

  FILE            columns email, username, hashed_password[, is_active, is_superuser, created_at]
                  (.csv, or .jsonl/.ndjson; otherwise a first "{" means JSON lines)
  --skip-invalid  import the valid rows and report the rest (default: one bad row imports nothing)

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
    const { file, skipInvalid } = parsed
    let format: ReturnType<typeof detectFormat>
    try {
      format = detectFormat(file, await head(file))
    } catch (err) {
      ctx.stderr.write(`keygate import-users: cannot read ${file}: ${(err as Error).message}\n`)
      return 1
    }

    const deps = await openDeps(ctx.config())
    try {
      const { hasher, clock } = deps
      const service = createImportUsersService({ db: deps.database.db, hasher, clock })
      const rows = parseRows(createReadStream(file, { encoding: 'utf8' }), format)
      const report = await service.run(rows, {
        skipInvalid,
        onProgress: (n) => ctx.stderr.write(`import-users: ${n} rows read\n`),
      })
      for (const bad of report.invalid) ctx.stderr.write(`line ${bad.line}: ${bad.reason}\n`)
      const summary = `${report.imported} imported, ${report.skipped} skipped (email already registered), ${report.invalid.length} invalid`
      if (!report.committed) {
        ctx.stdout.write(
          `Nothing imported: ${report.invalid.length} invalid row(s), listed above. Fix them, or re-run with --skip-invalid to import the valid rows.\n`,
        )
        return 1
      }
      ctx.stdout.write(`${summary} (${report.rows} rows, ${format})\n`)
      return 0
    } catch (err) {
      if (!(err instanceof ImportFileError)) throw err
      ctx.stderr.write(`keygate import-users: ${file}: ${err.message}; nothing imported\n`)
      return 1
    } finally {
      await deps.close()
    }
  },
}

function parseImportArgs(args: string[]) {
  const { values, positionals } = parseArgs({
    args,
    options: { 'skip-invalid': { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  })
  if (positionals.length !== 1) throw new Error('expected exactly one FILE')
  return { file: positionals[0]!, skipInvalid: values['skip-invalid'] === true }
}
