import { describe, expect, it } from 'vitest'
import { logSink } from '../../src/cli/log-output.js'
import { loadConfig } from '../../src/config.js'
import {
  hostPort,
  misspeltVariables,
  redactUrl,
  startupSummary,
  startupWarnings,
} from '../../src/config-report.js'

describe('misspelt settings', () => {
  it('names the setting a near miss was meant as', () => {
    const warnings = misspeltVariables({
      DATABSE_URL: 'x',
      SECERT_KEY: 'x',
      database_url: 'x',
      LOGLEVEL: 'debug',
      KEYGATE_PORT: '1',
      BACKEND_CORS_ORIGINS: 'x',
      ALGORITHM: 'HS256',
    })
    expect(warnings).toEqual([
      'ALGORITHM is not a Keygate setting and is ignored: did you mean JWT_ALGORITHM?',
      'BACKEND_CORS_ORIGINS is not a Keygate setting and is ignored: did you mean CORS_ORIGINS?',
      'DATABSE_URL is not a Keygate setting and is ignored: did you mean DATABASE_URL?',
      'KEYGATE_PORT is not a Keygate setting and is ignored: did you mean PORT?',
      'LOGLEVEL is not a Keygate setting and is ignored: did you mean LOG_LEVEL?',
      'SECERT_KEY is not a Keygate setting and is ignored: did you mean SECRET_KEY?',
      'database_url is not a Keygate setting and is ignored: did you mean DATABASE_URL?',
    ])
  })

  it('stays quiet about the settings themselves and an ordinary environment', () => {
    const env = Object.fromEntries(
      [
        'PATH',
        'HOME',
        'HOSTNAME',
        'TERM',
        'SHELL',
        'USER',
        'LANG',
        'PWD',
        'MAIL',
        'TZ',
        'TMPDIR',
        'PGHOST',
        'PGPORT',
        'REDIS_HOST',
        'DB_HOST',
        'NODE_OPTIONS',
        'DEBUG',
        'CI',
        'DATABASE_URL',
        'SECRET_KEY',
        'NODE_ENV',
        'HOST',
        'PORT',
        'SMTP_HOST',
        'POSTGRES_USER',
      ].map((n) => [n, 'x']),
    )
    expect(misspeltVariables({ ...env, ...process.env })).toEqual([])
  })
})

describe('start-up warnings', () => {
  it('are loud about RATE_LIMIT=off and about workers throttling alone', () => {
    const off = startupWarnings(loadConfig({ RATE_LIMIT: 'off' }), {})
    expect(off).toHaveLength(1)
    expect(off[0]).toMatch(/^RATE_LIMIT=off: .*NOT throttled/)
    const alone = startupWarnings(loadConfig({ WEB_CONCURRENCY: '4' }), {})
    expect(alone).toHaveLength(1)
    expect(alone[0]).toMatch(
      /^WEB_CONCURRENCY=4 without REDIS_URL: each worker counts failures alone/,
    )
    const shared = loadConfig({ WEB_CONCURRENCY: '4', REDIS_URL: 'redis://cache:6379' })
    expect(startupWarnings(shared, {})).toEqual([])
    expect(startupWarnings(loadConfig({}), {})).toEqual([])
  })
})

describe('start-up summary', () => {
  it('says mode, database (password hidden), keys, Redis, listen and docs URLs', () => {
    const env = {
      NODE_ENV: 'production',
      SECRET_KEY: 's'.repeat(32),
      DATABASE_URL: 'postgres://keygate:hunter2-secret@db.internal:5433/keygate',
      REDIS_URL: 'redis://:redis-pw@cache:6379/0',
      PUBLIC_URL: 'https://auth.example',
      HOST: '0.0.0.0',
    }
    const { fields, msg } = startupSummary(loadConfig(env), env)
    expect(fields).toMatchObject({
      mode: 'production',
      listen: 'http://0.0.0.0:8000',
      docs: 'https://auth.example/docs',
      database: 'postgres://keygate:***@db.internal:5433/keygate',
      keys: 'HS256 with SECRET_KEY',
      redis: 'redis://:***@cache:6379/0',
    })
    expect(msg).toContain('Keygate (production) listening on http://0.0.0.0:8000')
    expect(JSON.stringify({ fields, msg })).not.toMatch(/hunter2|redis-pw/)

    const dev = startupSummary(loadConfig({ DATA_DIR: '/srv/kg' }), {})
    expect(dev.fields.mode).toBe('development')
    expect(dev.fields.database).toMatch(/^SQLite \/.*data\/keygate\.db$/)
    expect(dev.fields.keys).toBe('HS256 with the development key in /srv/kg/secret.key')
    expect(dev.fields.redis).toMatch(/^off/)
    // The block a terminal shows instead of the fields.
    expect(dev.text.split('\n')).toEqual([
      'Keygate (development) listening on http://127.0.0.1:8000',
      '  docs       http://127.0.0.1:8000/docs',
      expect.stringMatching(/^ {2}database {3}SQLite \//),
      '  keys       HS256 with the development key in /srv/kg/secret.key',
      '  redis      off (throttle counters in process memory)',
      '  cors       off (no browser origin may call the API)',
    ])
    const any = startupSummary(loadConfig({ CORS_ORIGINS: '*' }), {})
    expect(any.fields.cors).toBe('any origin (*), without credentials')
  })

  it('helpers: redactUrl and hostPort', () => {
    expect(redactUrl('postgres://u:p@h/db')).toBe('postgres://u:***@h/db')
    expect(redactUrl('postgres://u@h/db')).toBe('postgres://u@h/db')
    expect(hostPort('postgres://u:p@db.internal/x', 5432)).toBe('db.internal:5432')
    expect(hostPort('redis://127.0.0.1:6380', 6379)).toBe('127.0.0.1:6380')
  })
})

describe('log output', () => {
  const line = `${JSON.stringify({ level: 30, time: 0, pid: 1, hostname: 'h', msg: 'hello' })}\n`
  const stream = (isTTY: boolean) => {
    const out = {
      isTTY,
      text: '',
      write(s: string) {
        out.text += s
        return true
      },
    }
    return out
  }

  it('is pino-pretty on a terminal, JSON (pino itself) otherwise', () => {
    const tty = stream(true)
    logSink({ logFormat: 'auto' }, tty as never)?.write(line)
    expect(tty.text).toMatch(/INFO.*hello/)
    expect(() => JSON.parse(tty.text)).toThrow()
    expect(logSink({ logFormat: 'auto' }, stream(false) as never)).toBeUndefined()
    expect(logSink({ logFormat: 'json' }, stream(true) as never)).toBeUndefined()
    const forced = stream(false)
    logSink({ logFormat: 'pretty' }, forced as never)?.write(line)
    expect(forced.text).toMatch(/INFO.*hello/)
  })
})
