import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { COMMANDS } from '../../src/cli/index.js'
import { cliEnv, runKeygate } from '../helpers/cli.js'

const ROOT = new URL('../../', import.meta.url).pathname

describe('keygate dispatcher', () => {
  it('lists every command in the top-level help', async () => {
    const { env } = cliEnv()
    const res = await runKeygate(['--help'], env)
    expect(res.code).toBe(0)
    for (const name of ['serve', 'migrate', 'create-user', 'import-users'])
      expect(res.stdout).toContain(`  ${name} `)
  })

  it.each(Object.keys(COMMANDS))(
    'answers `%s --help` with its usage, touching nothing',
    async (name) => {
      // No DATABASE_URL and a bad one in reach: --help must not even load the config.
      const res = await runKeygate([name, '--help'], { DATABASE_URL: 'nonsense' })
      expect(res.code).toBe(0)
      expect(res.stdout).toMatch(new RegExp(`^Usage: keygate ${name}\\b`))
      expect(res.stderr).toBe('')
    },
  )

  it('exits 2 on an unknown command, naming it', async () => {
    const res = await runKeygate(['frobnicate'], {})
    expect(res.code).toBe(2)
    expect(res.stderr).toMatch(/^keygate: unknown command "frobnicate"/)
  })

  it('names the variable when the configuration is bad', async () => {
    const res = await runKeygate(['migrate'], { DATABASE_URL: 'mysql://x' })
    expect(res.code).toBe(1)
    expect(res.stderr).toMatch(/^keygate: DATABASE_URL: /)
  })

  it('runs as an executable: bin/keygate.js from dist/, else src/main.ts through tsx', () => {
    const useDist = existsSync(`${ROOT}dist/main.js`)
    const args = useDist
      ? [`${ROOT}bin/keygate.js`, '--help']
      : ['--import', 'tsx', `${ROOT}src/main.ts`, '--help']
    const res = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', timeout: 30_000 })
    expect(res.status, res.stderr).toBe(0)
    expect(res.stdout).toMatch(/^Usage: keygate <command>/)
    const unknown = spawnSync(process.execPath, [...args.slice(0, -1), 'frobnicate'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 30_000,
    })
    expect(unknown.status).toBe(2)
  })
})
