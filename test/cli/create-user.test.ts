import { describe, expect, it } from 'vitest'
import { createDatabase } from '../../src/db/database.js'
import { createUsersRepo } from '../../src/repos/accounts/users.js'
import { buildTestApp } from '../helpers/app.js'
import { cliEnv, fakeTty, runKeygate } from '../helpers/cli.js'
import { loginAs } from '../helpers/factories.js'

describe('keygate create-user', () => {
  it('reads the password from the first line of piped stdin and creates a superuser', async () => {
    const { env, databaseUrl } = cliEnv()
    const res = await runKeygate(
      ['create-user', 'Admin@Example.com', '--username', 'admin', '--superuser'],
      env,
      'correct horse battery\nsecond line is ignored\n',
    )
    expect(res.stderr).toBe('')
    expect(res.stdout).toMatch(/^created superuser Admin@Example\.com \(id [0-9a-f-]{36}\)\n$/)
    expect(res.code).toBe(0)
    // The password never reached stdout/stderr.
    expect(res.stdout + res.stderr).not.toContain('horse')

    const { app, database } = await buildTestApp({}, { database: createDatabase(databaseUrl) })
    const user = await createUsersRepo(database.db).findByLogin('admin')
    expect(user).toMatchObject({ is_superuser: true, is_active: true })
    expect(user!.hashed_password).toMatch(/^\$argon2id\$/)
    await loginAs(app, { email: 'admin@example.com', password: 'correct horse battery' })

    const again = await runKeygate(['create-user', 'admin@example.com'], env, 'another-password\n')
    expect(again.code).toBe(1)
    expect(again.stderr).toBe('keygate create-user: Email already registered\n')
  })

  it('prompts twice without echo on a terminal, and refuses a mismatch', async () => {
    const { env } = cliEnv()
    const tty = fakeTty()
    const pending = runKeygate(['create-user', 'tty@example.com'], env, tty)
    // Pasted at once, with a typo fixed by backspace.
    tty.write('s3cret-passwordX\u007f\rs3cret-password\r')
    const res = await pending
    expect(res.stdout).toMatch(/^created user tty@example\.com/)
    expect(res.stderr).toBe('Password: \nRepeat password: \n')
    expect(tty.rawModes).toEqual([true, false])

    const tty2 = fakeTty()
    const mismatch = runKeygate(['create-user', 'tty2@example.com'], env, tty2)
    tty2.write('first-password\r')
    tty2.write('other-password\r')
    const res2 = await mismatch
    expect(res2.code).toBe(1)
    expect(res2.stderr).toContain('keygate create-user: the passwords do not match')
    expect(tty2.rawModes).toEqual([true, false])
  })

  it('never takes a password from argv', async () => {
    const { env } = cliEnv()
    for (const args of [['--password', 'hunter22'], ['--password=hunter22'], ['-p', 'hunter22']]) {
      const res = await runKeygate(
        ['create-user', 'a@example.com', ...args],
        env,
        'pw-from-stdin\n',
      )
      expect(res.code).toBe(2)
      expect(res.stderr).toMatch(/passwords are never accepted on the command line/)
      expect(res.stderr).not.toContain('hunter22')
      expect(res.stdout).toBe('')
    }
  })

  it('refuses bad input before creating anything', async () => {
    const { env } = cliEnv()
    const cases: [string[], string, number, RegExp][] = [
      [['create-user'], 'long-enough-pw\n', 2, /expected exactly one EMAIL/],
      [['create-user', 'not-an-email'], 'long-enough-pw\n', 2, /EMAIL is not a valid email/],
      [['create-user', 'a@example.com', '--username', 'a@b'], 'long-enough-pw\n', 2, /--username/],
      [['create-user', 'a@example.com', '--admin'], 'long-enough-pw\n', 2, /Unknown option/],
      [['create-user', 'a@example.com'], 'short\n', 1, /must be 8 to 1024 characters/],
      [['create-user', 'a@example.com'], '', 1, /no password was read: stdin was empty/],
      [['create-user', 'a@example.com'], '\n', 1, /no password was read/],
    ]
    for (const [argv, stdin, code, message] of cases) {
      const res = await runKeygate(argv, env, stdin)
      expect(res.code, argv.join(' ')).toBe(code)
      expect(res.stderr).toMatch(message)
      expect(res.stdout).toBe('')
    }
  })
})
