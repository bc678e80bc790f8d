import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough, Readable } from 'node:stream'
import { onTestFinished } from 'vitest'
import { runCli } from '../../src/cli/index.js'
import { TEST_SECRET } from './config.js'

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/** A scratch directory with a SQLite DATABASE_URL in it, removed after the test. */
export function cliEnv(extra: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'keygate-cli-'))
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
  const databaseUrl = `sqlite:${join(dir, 'keygate.db')}`
  const env = {
    DATABASE_URL: databaseUrl,
    DATA_DIR: dir,
    SECRET_KEY: TEST_SECRET,
    LOG_LEVEL: 'silent',
    ARGON2_MEMORY_KIB: '1024',
    ARGON2_TIME_COST: '1',
    ...extra,
  }
  return { dir, databaseUrl, env }
}

/** A fake terminal: isTTY, a no-op raw mode, and keystrokes written in by the test. */
export function fakeTty() {
  const input = Object.assign(new PassThrough(), {
    isTTY: true,
    rawModes: [] as boolean[],
    setRawMode(raw: boolean) {
      input.rawModes.push(raw)
      return input
    },
  })
  return input
}

/** Runs `keygate …argv` in-process; stdin is piped text (or a stream), output is captured. */
export async function runKeygate(
  argv: string[],
  env: Record<string, string>,
  stdin: string | NodeJS.ReadableStream = '',
): Promise<CliResult> {
  let stdout = ''
  let stderr = ''
  const sink = (append: (s: string) => void) =>
    Object.assign(new PassThrough(), {
      write: (chunk: string | Uint8Array) => {
        append(chunk.toString())
        return true
      },
    })
  const code = await runCli(argv, {
    env,
    stdin: typeof stdin === 'string' ? Readable.from([stdin]) : stdin,
    stdout: sink((s) => (stdout += s)),
    stderr: sink((s) => (stderr += s)),
  })
  return { code, stdout, stderr }
}
