import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { runCli } from '../../src/cli/index.js'
import { TEST_SECRET } from '../helpers/config.js'
import { deadPort } from '../helpers/tcp-proxy.js'

async function run(argv: string[], env: Record<string, string>) {
  const stdout = new PassThrough()
  const stderr = new PassThrough()
  let out = ''
  let err = ''
  stdout.setEncoding('utf8').on('data', (c: string) => {
    out += c
  })
  stderr.setEncoding('utf8').on('data', (c: string) => {
    err += c
  })
  const code = await runCli(argv, { env, stdin: new PassThrough(), stdout, stderr })
  return { code, out, err }
}

// Chosen behaviour: with MIGRATE_ON_START on (the default) an unreachable database
// stops start-up with one line, so a supervisor restarts the process and nothing
// serves on a schema it never checked. With MIGRATE_ON_START=off the server starts
// and answers 503 until the database is back (test/http/db-outage.test.ts).
describe('start-up against an unreachable database', () => {
  const UNREACHABLE =
    /^keygate (serve|migrate): database unreachable, cannot run migrations: connect ECONNREFUSED 127\.0\.0\.1:\d+\n$/

  for (const [label, argv, extra] of [
    ['serve', ['serve'], {}],
    [
      'serve with WEB_CONCURRENCY=2 (the primary, before forking)',
      ['serve'],
      { WEB_CONCURRENCY: '2' },
    ],
    ['migrate', ['migrate'], {}],
  ] as const) {
    it(`${label}: exits 1 with one clear line that does not leak the URL's password`, async () => {
      const started = Date.now()
      const { code, err, out } = await run([...argv], {
        DATABASE_URL: `postgres://keygate:s3cret-pw@127.0.0.1:${await deadPort()}/keygate`,
        SECRET_KEY: TEST_SECRET,
        PORT: '0',
        LOG_LEVEL: 'silent',
        ...extra,
      })
      expect(code).toBe(1)
      expect(err).toMatch(UNREACHABLE)
      expect(err + out).not.toContain('s3cret-pw')
      expect(Date.now() - started).toBeLessThan(5000)
    })
  }
})
