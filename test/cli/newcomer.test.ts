import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { VERSION } from '../../src/cli/index.js'
import { cliEnv, runKeygate } from '../helpers/cli.js'

const ROOT = new URL('../../', import.meta.url).pathname
const PKG = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8'))

describe('keygate, as a newcomer first runs it', () => {
  it('--version prints the package version, in-process and from the built bundle', async () => {
    expect(VERSION).toBe(PKG.version)
    for (const flag of ['--version', '-v']) {
      const res = await runKeygate([flag], {})
      expect(res).toEqual({ code: 0, stdout: `keygate ${PKG.version}\n`, stderr: '' })
    }
    if (existsSync(`${ROOT}dist/main.js`)) {
      const bin = spawnSync(process.execPath, [`${ROOT}bin/keygate.js`, '--version'], {
        encoding: 'utf8',
        timeout: 30_000,
      })
      expect(bin.stdout).toBe(`keygate ${PKG.version}\n`)
    }
  })

  it('--json prints one JSON object on stdout for migrate, create-user and reset-link', async () => {
    const { env } = cliEnv()
    const migrate = await runKeygate(['migrate', '--json'], env)
    expect(migrate.code).toBe(0)
    expect(JSON.parse(migrate.stdout).applied).toContain('0001_users')
    expect(JSON.parse((await runKeygate(['migrate', '--json'], env)).stdout)).toEqual({
      applied: [],
    })

    const created = await runKeygate(
      ['create-user', 'json@example.com', '--username', 'jsonny', '--json'],
      env,
      'a-long-enough-password\n',
    )
    expect(created.code).toBe(0)
    expect(JSON.parse(created.stdout)).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      email: 'json@example.com',
      username: 'jsonny',
      is_superuser: false,
    })

    const link = await runKeygate(['reset-link', 'json@example.com', '--json'], env)
    expect(link.code).toBe(0)
    expect(JSON.parse(link.stdout).link).toMatch(/\/reset-password\?token=/)
  })

  it('a database without tables (MIGRATE_ON_START=off) says to run keygate migrate', async () => {
    const { env } = cliEnv({ MIGRATE_ON_START: 'off' })
    const res = await runKeygate(['create-user', 'x@example.com'], env, 'a-long-enough-password\n')
    expect(res.code).toBe(1)
    expect(res.stderr).toBe(
      'keygate create-user: the database has no tables yet (MIGRATE_ON_START=off): run `keygate migrate` first\n',
    )
    const link = await runKeygate(['reset-link', 'x@example.com'], env)
    expect(link.stderr).toMatch(/run `keygate migrate` first\n$/)
  })

  it('a bad NODE_ENV or a short SECRET_KEY stops serve with one line naming it', async () => {
    const { env } = cliEnv()
    for (const [extra, message] of [
      [
        { NODE_ENV: 'prod' },
        /^keygate: NODE_ENV: expected development, production, test, got "prod"\n$/,
      ],
      [{ SECRET_KEY: 'changeme' }, /^keygate: SECRET_KEY: must be at least 32 bytes, got 8 /],
    ] as const) {
      const res = await runKeygate(['serve'], { ...env, ...extra })
      expect(res.code).toBe(1)
      expect(res.stderr).toMatch(message)
      expect(res.stderr.trim().split('\n')).toHaveLength(1)
    }
  })

  it('no command module imports the dispatcher back (no cli/index.ts circle)', () => {
    const dir = `${ROOT}src/cli/`
    for (const file of readdirSync(dir).filter((f) => f !== 'index.ts')) {
      expect(readFileSync(dir + file, 'utf8'), file).not.toMatch(/from '\.\/index\.js'/)
    }
  })
})
