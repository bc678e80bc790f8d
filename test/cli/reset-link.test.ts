import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { describe, expect, it, onTestFinished } from 'vitest'
import { buildApp } from '../../src/app.js'
import { runCli } from '../../src/cli/index.js'
import { TEST_SECRET, testConfig } from '../helpers/config.js'
import { createUser, strongPassword } from '../helpers/factories.js'

// The CLI opens its own database from DATABASE_URL: a SQLite file here, on either test run.
function workspace() {
  const dir = mkdtempSync(join(tmpdir(), 'keygate-cli-'))
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
  const databaseUrl = `sqlite:${join(dir, 'keygate.db')}`
  const env = {
    DATABASE_URL: databaseUrl,
    SECRET_KEY: TEST_SECRET,
    DATA_DIR: dir,
    PUBLIC_URL: 'https://auth.example.com',
    LOG_LEVEL: 'silent',
  }
  const app = () => buildApp(testConfig({ databaseUrl }))
  return { env, app }
}

async function cli(args: string[], env: Record<string, string>) {
  const out: string[] = []
  const err: string[] = []
  const sink = (into: string[]) =>
    ({ write: (s: string) => into.push(s) > 0 }) as unknown as NodeJS.WritableStream
  const code = await runCli(args, {
    env,
    stdin: Readable.from([]),
    stdout: sink(out),
    stderr: sink(err),
  })
  return { code, stdout: out.join(''), stderr: err.join('') }
}

describe('keygate reset-link', () => {
  it('prints a one-time link under PUBLIC_URL that resets the password', async () => {
    const { env, app } = workspace()
    const first = await app()
    const user = await createUser(first)
    await first.close()

    const out = await cli(['reset-link', user.email], env)
    expect(out.code, out.stderr).toBe(0)
    const link = out.stdout.trim()
    expect(link).toMatch(/^https:\/\/auth\.example\.com\/reset-password\?token=[\w-]{43}$/)

    const server = await app()
    onTestFinished(() => server.close())
    const token = new URL(link).searchParams.get('token')
    const confirm = () =>
      server.inject({
        method: 'POST',
        url: '/api/v1/auth/password-reset/confirm',
        payload: { token, new_password: strongPassword() },
      })
    expect((await confirm()).statusCode).toBe(204)
    expect((await confirm()).statusCode).toBe(400)
  })

  it('exits non-zero with a clear message for an unknown email', async () => {
    const { env, app } = workspace()
    await (await app()).close()
    const out = await cli(['reset-link', 'nobody@example.com'], env)
    expect(out.code).toBe(1)
    expect(out.stdout).toBe('')
    expect(out.stderr).toBe('keygate reset-link: no account has this email\n')
  })

  it('shows its usage without an email', async () => {
    const { env } = workspace()
    const out = await cli(['reset-link'], env)
    expect(out.code).toBe(2)
    expect(out.stderr).toContain('keygate reset-link EMAIL')
  })
})
