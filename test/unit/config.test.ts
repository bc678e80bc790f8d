import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { CONFIG_VARIABLES, ConfigError, loadConfig } from '../../src/config.js'
import { withDevSecret } from '../../src/services/keys/signing-keys.js'

const LONG_SECRET = 's'.repeat(32)

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env)
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    return err as ConfigError
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`)
}

describe('loadConfig', () => {
  it('has the SPEC §2 defaults', () => {
    const c = loadConfig({})
    expect(c).toMatchObject({
      production: false,
      host: '127.0.0.1',
      port: 8000,
      databaseUrl: 'sqlite:./data/keygate.db',
      redisUrl: undefined,
      secretKey: undefined,
      jwtAlgorithm: 'HS256',
      publicUrl: 'http://127.0.0.1:8000',
      jwtIssuer: 'http://127.0.0.1:8000',
      jwtAudience: 'keygate',
      accessTokenExpireMinutes: 30,
      refreshTokenExpireDays: 30,
      sessionMaxDays: 90,
      refreshReuseGraceSeconds: 10,
      trustProxy: undefined,
      smtpUrl: undefined,
      introspectionSecret: undefined,
      corsOrigins: [],
      firstSuperuserEmail: undefined,
      firstSuperuserPassword: undefined,
      passwordMinLength: 8,
      logLevel: 'info',
      argon2: { memoryCost: 19456, timeCost: 2, parallelism: 1 },
    })
  })

  it('derives PUBLIC_URL from HOST/PORT and the issuer from PUBLIC_URL', () => {
    expect(loadConfig({ HOST: '0.0.0.0', PORT: '9000' }).publicUrl).toBe('http://0.0.0.0:9000')
    expect(loadConfig({ HOST: '::1' }).publicUrl).toBe('http://[::1]:8000')
    const c = loadConfig({ PUBLIC_URL: 'https://auth.example.com/' })
    expect(c.publicUrl).toBe('https://auth.example.com')
    expect(c.jwtIssuer).toBe('https://auth.example.com')
    expect(loadConfig({ JWT_ISSUER: 'https://iss.example', JWT_AUDIENCE: 'api' })).toMatchObject({
      jwtIssuer: 'https://iss.example',
      jwtAudience: 'api',
    })
  })

  it('reads the other variables', () => {
    const c = loadConfig({
      NODE_ENV: 'production',
      SECRET_KEY: LONG_SECRET,
      DATABASE_URL: 'postgres://u:p@db:5432/keygate',
      REDIS_URL: 'redis://cache:6379',
      CORS_ORIGINS: 'https://a.example, https://b.example',
      TRUST_PROXY: '10.0.0.0/8',
      ACCESS_TOKEN_EXPIRE_MINUTES: '5',
      LOG_LEVEL: 'warn',
      INTROSPECTION_SECRET: 'i'.repeat(32),
    })
    expect(c).toMatchObject({
      production: true,
      secretKey: LONG_SECRET,
      databaseUrl: 'postgres://u:p@db:5432/keygate',
      redisUrl: 'redis://cache:6379',
      corsOrigins: ['https://a.example', 'https://b.example'],
      trustProxy: ['10.0.0.0/8'],
      accessTokenExpireMinutes: 5,
      logLevel: 'warn',
    })
    expect(loadConfig({ DATABASE_URL: 'sqlite::memory:' }).databaseUrl).toBe('sqlite::memory:')
  })

  it('refuses every bad value with one line that starts with the variable name', () => {
    const cases: [Record<string, string>, string][] = [
      [{ PORT: 'abc' }, 'PORT'],
      [{ PORT: '70000' }, 'PORT'],
      [{ PORT: '-1' }, 'PORT'],
      [{ DATABASE_URL: 'mysql://localhost/db' }, 'DATABASE_URL'],
      [{ DATABASE_URL: 'sqlite:' }, 'DATABASE_URL'],
      [{ JWT_ALGORITHM: 'none' }, 'JWT_ALGORITHM'],
      [{ JWT_ALGORITHM: 'HS512' }, 'JWT_ALGORITHM'],
      [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
      [{ PUBLIC_URL: 'notaurl' }, 'PUBLIC_URL'],
      [{ PUBLIC_URL: 'ftp://example.com' }, 'PUBLIC_URL'],
      [{ NODE_ENV: 'production', SECRET_KEY: 'short' }, 'SECRET_KEY'],
      [{ SECRET_KEY: 's'.repeat(31) }, 'SECRET_KEY'],
      [{ NODE_ENV: 'prod' }, 'NODE_ENV'],
      [{ NODE_ENV: 'Production' }, 'NODE_ENV'],
      [{ NODE_ENV: 'staging' }, 'NODE_ENV'],
      [{ DATABASE_URL: 'sqlite://data/keygate.db' }, 'DATABASE_URL'],
      [{ DATABASE_URL: 'sqlite://' }, 'DATABASE_URL'],
      [{ CORS_ORIGINS: '*, https://a.example' }, 'CORS_ORIGINS'],
      [{ CORS_ORIGINS: 'https://a.example/app' }, 'CORS_ORIGINS'],
      [{ CORS_ORIGINS: 'a.example' }, 'CORS_ORIGINS'],
      [{ CORS_ORIGINS: '*', CORS_ALLOW_CREDENTIALS: 'on' }, 'CORS_ALLOW_CREDENTIALS'],
      [{ LOG_FORMAT: 'text' }, 'LOG_FORMAT'],
      [
        { FIRST_SUPERUSER_EMAIL: `${'a'.repeat(65)}@b.example`, FIRST_SUPERUSER_PASSWORD: 'x' },
        'FIRST_SUPERUSER_EMAIL',
      ],
      [{ NODE_ENV: 'production' }, 'SECRET_KEY'],
      [{ INTROSPECTION_SECRET: 'short' }, 'INTROSPECTION_SECRET'],
      [{ REDIS_URL: 'http://cache' }, 'REDIS_URL'],
      [{ ACCESS_TOKEN_EXPIRE_MINUTES: '0' }, 'ACCESS_TOKEN_EXPIRE_MINUTES'],
      [{ ACCESS_TOKEN_EXPIRE_MINUTES: '1.5' }, 'ACCESS_TOKEN_EXPIRE_MINUTES'],
      [{ PASSWORD_MIN_LENGTH: 'eight' }, 'PASSWORD_MIN_LENGTH'],
    ]
    for (const [env, variable] of cases) {
      const err = configError(env)
      expect(
        err.message.startsWith(`${variable}:`),
        `${JSON.stringify(env)} → ${err.message}`,
      ).toBe(true)
      expect(err.message).not.toContain('\n')
    }
  })

  it('never puts a secret value into the error message', () => {
    const err = configError({ NODE_ENV: 'production', SECRET_KEY: 'tiny-secret-value' })
    expect(err.message).not.toContain('tiny-secret-value')
    const intro = configError({ INTROSPECTION_SECRET: 'tiny-introspection' })
    expect(intro.message).not.toContain('tiny-introspection')
  })

  it('NODE_ENV is development, production or test; unset is development', () => {
    expect(loadConfig({}).nodeEnv).toBe('development')
    for (const mode of ['development', 'test'] as const) {
      expect(loadConfig({ NODE_ENV: mode })).toMatchObject({ nodeEnv: mode, production: false })
    }
    const prod = loadConfig({ NODE_ENV: 'production', SECRET_KEY: LONG_SECRET })
    expect(prod).toMatchObject({ nodeEnv: 'production', production: true })
  })

  it('resolves SQLAlchemy sqlite URLs as SQLAlchemy does, never at the filesystem root', () => {
    const db = (url: string) => loadConfig({ DATABASE_URL: url }).databaseUrl
    expect(db('sqlite:///data/app.db')).toBe('sqlite:data/app.db')
    expect(db('sqlite:///./app.db')).toBe('sqlite:./app.db')
    expect(db('sqlite:////var/lib/keygate/app.db')).toBe('sqlite:/var/lib/keygate/app.db')
    expect(db('sqlite+aiosqlite:///app.db')).toBe('sqlite:app.db')
    expect(db('sqlite:///:memory:')).toBe('sqlite::memory:')
    expect(db('sqlite:./data/keygate.db')).toBe('sqlite:./data/keygate.db')
    expect(db('postgresql+asyncpg://u:p@db/app')).toBe('postgresql://u:p@db/app')
  })

  it('CORS_ORIGINS: origins as browsers send them, or * alone', () => {
    const cors = (v: string) => loadConfig({ CORS_ORIGINS: v }).corsOrigins
    expect(cors('https://a.example/, http://localhost:3000')).toEqual([
      'https://a.example',
      'http://localhost:3000',
    ])
    expect(cors('*')).toEqual(['*'])
    expect(
      loadConfig({ CORS_ORIGINS: 'https://a.example', CORS_ALLOW_CREDENTIALS: 'on' }),
    ).toMatchObject({
      corsCredentials: true,
    })
  })

  it('reads no variable that CONFIG_VARIABLES does not list', () => {
    const read = new Set<string>()
    const env = new Proxy({} as Record<string, string | undefined>, {
      get(_t, name) {
        if (typeof name === 'string') read.add(name)
        return undefined
      },
    })
    loadConfig(env)
    const unlisted = [...read].filter((n) => !(CONFIG_VARIABLES as readonly string[]).includes(n))
    expect(unlisted).toEqual([])
    expect(read.size).toBeGreaterThan(30)
  })
})

describe('withDevSecret', () => {
  it('writes DATA_DIR/secret.key once and reuses it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keygate-config-'))
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
    const dataDir = join(dir, 'nested', 'data')
    const config = loadConfig({ DATA_DIR: dataDir })
    const first = withDevSecret(config)
    expect(first.secretKey).toBeTypeOf('string')
    expect(Buffer.byteLength(first.secretKey!)).toBeGreaterThanOrEqual(32)
    const file = join(dataDir, 'secret.key')
    expect(readFileSync(file, 'utf8').trim()).toBe(first.secretKey)
    expect(statSync(file).mode & 0o077).toBe(0)
    const second = withDevSecret(loadConfig({ DATA_DIR: dataDir }))
    expect(second.secretKey).toBe(first.secretKey)
  })

  it('leaves a configured SECRET_KEY alone and writes nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keygate-config-'))
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
    const c = withDevSecret(loadConfig({ DATA_DIR: dir, SECRET_KEY: LONG_SECRET }))
    expect(c.secretKey).toBe(LONG_SECRET)
    expect(() => statSync(join(dir, 'secret.key'))).toThrow()
  })
})
