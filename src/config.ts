import { isIP } from 'node:net'
import { availableParallelism } from 'node:os'
import { isValidEmail } from './domain/user.js'

export type JwtAlgorithm = 'HS256' | 'EdDSA' | 'ES256' | 'RS256'
export const JWT_ALGORITHMS: readonly JwtAlgorithm[] = ['HS256', 'EdDSA', 'ES256', 'RS256']

export interface Argon2Params {
  memoryCost: number // KiB
  timeCost: number
  parallelism: number
}

export interface RateLimitConfig {
  enabled: boolean
  /** failures per account and client before the doubling delay starts */
  accountClientFailures: number
  /** the first delay after those failures; each further failure doubles it */
  baseDelaySeconds: number
  /** ceiling of the doubling delay, seconds */
  maxDelaySeconds: number
  /** failures per account per hour from all clients */
  accountFailuresPerHour: number
  /** requests per client per minute over the auth endpoints */
  clientRequestsPerMinute: number
  /** signups per client per hour answered 409 (the one enumeration exception) */
  signupConflictsPerHour: number
  /** least time between two password reset mails to one account, seconds */
  resetMailIntervalSeconds: number
  /** password reset mails per account per hour */
  resetMailsPerHour: number
  /** posts one account may create per minute */
  postsPerMinute: number
}

/**
 * Every environment variable Keygate reads (and `.env` may set), so that a
 * misspelt one can be warned about (config-report.ts) and .env.example checked.
 */
export const CONFIG_VARIABLES = [
  'NODE_ENV',
  'HOST',
  'PORT',
  'DATABASE_URL',
  'DB_POOL_SIZE',
  'REDIS_URL',
  'REDIS_KEY_PREFIX',
  'SECRET_KEY',
  'JWT_ALGORITHM',
  'DATA_DIR',
  'JWT_PRIVATE_KEY_FILE',
  'ID_TOKEN_KEY_FILE',
  'PUBLIC_URL',
  'JWT_ISSUER',
  'JWT_AUDIENCE',
  'ACCESS_TOKEN_EXPIRE_MINUTES',
  'REFRESH_TOKEN_EXPIRE_DAYS',
  'SESSION_MAX_DAYS',
  'REFRESH_REUSE_GRACE_SECONDS',
  'PASSWORD_RESET_EXPIRE_MINUTES',
  'AUDIT_RETENTION_DAYS',
  'REQUIRE_VERIFIED_EMAIL',
  'TRUST_PROXY',
  'SMTP_URL',
  'MAIL_FROM',
  'INTROSPECTION_SECRET',
  'CORS_ORIGINS',
  'CORS_ALLOW_CREDENTIALS',
  'FIRST_SUPERUSER_EMAIL',
  'FIRST_SUPERUSER_PASSWORD',
  'PASSWORD_MIN_LENGTH',
  'LOG_LEVEL',
  'LOG_FORMAT',
  'WEB_CONCURRENCY',
  'ARGON2_MEMORY_KIB',
  'ARGON2_TIME_COST',
  'ARGON2_PARALLELISM',
  'HASH_CONCURRENCY',
  'RATE_LIMIT',
  'RATE_LIMIT_ACCOUNT_CLIENT_FAILURES',
  'RATE_LIMIT_BASE_DELAY_SECONDS',
  'RATE_LIMIT_MAX_DELAY_SECONDS',
  'RATE_LIMIT_ACCOUNT_FAILURES_PER_HOUR',
  'RATE_LIMIT_CLIENT_PER_MINUTE',
  'RATE_LIMIT_SIGNUP_CONFLICTS_PER_HOUR',
  'MIGRATE_ON_START',
  'RATE_LIMIT_RESET_MAIL_INTERVAL_SECONDS',
  'RATE_LIMIT_RESET_MAILS_PER_HOUR',
  'RATE_LIMIT_POSTS_PER_MINUTE',
  'METRICS_TOKEN',
  'METRICS_PORT',
  'MAX_CONNECTIONS',
  'MAX_CONNECTIONS_PER_CLIENT',
] as const

export type NodeEnv = 'development' | 'production' | 'test'
const NODE_ENVS: readonly NodeEnv[] = ['development', 'production', 'test']

export interface Config {
  production: boolean
  /** NODE_ENV (default development); `production` is the flag the checks use */
  nodeEnv: NodeEnv
  host: string
  port: number
  databaseUrl: string
  dbPoolSize: number
  redisUrl: string | undefined
  /** prefix of Keygate's Redis keys, so deployments can share one Redis */
  redisKeyPrefix: string
  /** HS256 key; main/CLI fill it from ./data/secret.key in development */
  secretKey: string | undefined
  jwtAlgorithm: JwtAlgorithm
  /** where generated keys and the dev secret live */
  dataDir: string
  /** PEM or JWK-set file with the signing key(s) for asymmetric algorithms */
  jwtPrivateKeyFile: string | undefined
  /** RS256 JWK set or PEM that signs ID tokens when JWT_ALGORITHM is HS256 */
  idTokenKeyFile: string | undefined
  publicUrl: string
  jwtIssuer: string
  jwtAudience: string
  accessTokenExpireMinutes: number
  refreshTokenExpireDays: number
  sessionMaxDays: number
  /** audit events older than this are deleted by the hourly pruner */
  auditRetentionDays: number
  refreshReuseGraceSeconds: number
  passwordResetExpireMinutes: number
  /** REQUIRE_VERIFIED_EMAIL: a correct password on an unverified account is refused (403) */
  requireVerifiedEmail: boolean
  trustProxy: string[] | undefined
  smtpUrl: string | undefined
  mailFrom: string
  introspectionSecret: string | undefined
  /** allowed browser origins; `['*']` means any origin (no credentials then) */
  corsOrigins: string[]
  /** CORS_ALLOW_CREDENTIALS: lets allowed origins send cookies (never with `*`) */
  corsCredentials: boolean
  firstSuperuserEmail: string | undefined
  firstSuperuserPassword: string | undefined
  passwordMinLength: number
  logLevel: string
  /** LOG_FORMAT: `pretty` lines, `json` lines, or `auto` (pretty on a terminal) */
  logFormat: 'auto' | 'json' | 'pretty'
  webConcurrency: number
  argon2: Argon2Params
  /** how many password hashes may run at once (the rest queue) */
  hashConcurrency: number
  rateLimit: RateLimitConfig
  migrateOnStart: boolean
  /** MAX_CONNECTIONS: open sockets per process; more are dropped (keep it under `ulimit -n`) */
  maxConnections: number
  /** MAX_CONNECTIONS_PER_CLIENT: open sockets per client address (IPv6 by /64); 0 = no cap; not applied with TRUST_PROXY */
  maxConnectionsPerClient: number
  /** bearer token that may read GET /metrics on the main port (at least 32 bytes) */
  metricsToken: string | undefined
  /** a separate listener on HOST serving /metrics without a token */
  metricsPort: number | undefined
}

/** Start-up configuration error; the message is one line that names the variable. */
export class ConfigError extends Error {
  override name = 'ConfigError'
}

type Env = Record<string, string | undefined>

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

function str(env: Env, name: string): string | undefined {
  const v = env[name]?.trim()
  return v === '' ? undefined : v
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = str(env, name)
  if (raw === undefined) return fallback
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(`${name}: expected an integer from ${min} to ${max}, got "${raw}"`)
  }
  return Number(raw)
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = str(env, name)?.toLowerCase()
  if (raw === undefined) return fallback
  if (['1', 'true', 'on', 'yes'].includes(raw)) return true
  if (['0', 'false', 'off', 'no'].includes(raw)) return false
  throw new ConfigError(`${name}: expected on/off, got "${raw}"`)
}

function list(env: Env, name: string): string[] {
  return (str(env, name) ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
}

function httpUrl(name: string, raw: string): string {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new ConfigError(`${name}: not a valid URL: "${raw}"`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`${name}: expected an http(s) URL, got "${raw}"`)
  }
  return raw.replace(/\/+$/, '')
}

const SQLITE_FORMS = 'sqlite:PATH, sqlite:///relative/path.db, sqlite:////absolute/path.db'

/**
 * DATABASE_URL in Keygate's forms (`sqlite:PATH`, `sqlite::memory:`,
 * `postgres://…`), plus the SQLAlchemy URLs a FastAPI app's settings hold:
 * `sqlite:///rel.db` is relative and `sqlite:////abs.db` absolute, as
 * SQLAlchemy reads them (never a file at the filesystem root), and a driver
 * suffix (`+aiosqlite`, `+asyncpg`) is dropped. Returns the canonical form.
 */
function databaseUrl(given: string): string {
  const raw = given.replace(/^(sqlite|postgres|postgresql)\+[A-Za-z0-9_]+:/, '$1:')
  if (raw.startsWith('sqlite:')) {
    const rest = raw.slice('sqlite:'.length)
    if (rest === '' || rest === '//') {
      throw new ConfigError(`DATABASE_URL: sqlite needs a path: ${SQLITE_FORMS}`)
    }
    if (rest === ':memory:' || rest === '///:memory:') return 'sqlite::memory:'
    if (rest.startsWith('///')) return `sqlite:${rest.slice(3)}`
    if (rest.startsWith('//')) {
      throw new ConfigError(
        `DATABASE_URL: "${raw.slice(0, 40)}" names a host, not a file; use ${SQLITE_FORMS}`,
      )
    }
    return raw
  }
  if (/^postgres(ql)?:\/\//.test(raw)) {
    try {
      new URL(raw)
    } catch {
      throw new ConfigError('DATABASE_URL: not a valid postgres:// URL')
    }
    return raw
  }
  throw new ConfigError('DATABASE_URL: expected sqlite:PATH, sqlite::memory: or postgres://…')
}

/**
 * CORS_ORIGINS: each entry an origin (scheme://host[:port], as browsers send
 * it in `Origin`; a trailing slash is dropped), or `*` alone for any origin.
 */
function corsOrigins(env: Env): string[] {
  const entries = list(env, 'CORS_ORIGINS')
  if (entries.includes('*')) {
    if (entries.length > 1)
      throw new ConfigError('CORS_ORIGINS: "*" cannot be combined with origins')
    return ['*']
  }
  return entries.map((entry) => {
    let url: URL | undefined
    try {
      url = new URL(entry)
    } catch {}
    if (!url || !/^https?:$/.test(url.protocol) || url.pathname !== '/' || url.search || url.hash) {
      throw new ConfigError(
        `CORS_ORIGINS: expected origins like https://app.example, got "${entry}"`,
      )
    }
    return url.origin
  })
}

function urlWithScheme(name: string, raw: string | undefined, schemes: string[]) {
  if (raw === undefined) return undefined
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new ConfigError(`${name}: not a valid URL`)
  }
  if (!schemes.includes(url.protocol)) {
    throw new ConfigError(`${name}: expected a ${schemes.join(' or ')} URL`)
  }
  return raw
}

// What proxy-addr (Fastify's trustProxy) accepts: addresses, CIDRs, and its named ranges.
const PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal']
function trustedProxies(env: Env): string[] | undefined {
  const entries = list(env, 'TRUST_PROXY')
  for (const entry of entries) {
    const [addr = '', bits, extra] = entry.split('/')
    const version = isIP(addr)
    const bitsOk =
      bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (version === 4 ? 32 : 128))
    if (!PROXY_NAMES.includes(entry) && (version === 0 || !bitsOk || extra !== undefined)) {
      throw new ConfigError(`TRUST_PROXY: expected addresses or CIDRs, got "${entry}"`)
    }
  }
  return entries.length > 0 ? entries : undefined
}

/** Reads and validates the whole configuration. Pure: no files, no process. */
export function loadConfig(env: Env): Config {
  const nodeEnv = (str(env, 'NODE_ENV') ?? 'development') as NodeEnv
  if (!NODE_ENVS.includes(nodeEnv)) {
    throw new ConfigError(`NODE_ENV: expected ${NODE_ENVS.join(', ')}, got "${nodeEnv}"`)
  }
  const production = nodeEnv === 'production'
  const host = str(env, 'HOST') ?? '127.0.0.1'
  const port = int(env, 'PORT', 8000, 0, 65535)

  const algorithm = str(env, 'JWT_ALGORITHM') ?? 'HS256'
  if (!JWT_ALGORITHMS.includes(algorithm as JwtAlgorithm)) {
    throw new ConfigError(
      `JWT_ALGORITHM: expected one of ${JWT_ALGORITHMS.join(', ')}, got "${algorithm}"`,
    )
  }

  const secretKey = str(env, 'SECRET_KEY')
  // RFC 7518 §3.2: an HS256 key at least as long as the hash output (32 bytes),
  // in every mode: a short key in development tends to reach production.
  if (secretKey !== undefined && Buffer.byteLength(secretKey) < 32) {
    throw new ConfigError(
      `SECRET_KEY: must be at least 32 bytes, got ${Buffer.byteLength(secretKey)} (e.g. openssl rand -base64 32)`,
    )
  }
  if (secretKey === undefined && production && algorithm === 'HS256') {
    throw new ConfigError('SECRET_KEY: required with NODE_ENV=production (at least 32 bytes)')
  }

  const introspectionSecret = str(env, 'INTROSPECTION_SECRET')
  if (introspectionSecret !== undefined && Buffer.byteLength(introspectionSecret) < 32) {
    throw new ConfigError('INTROSPECTION_SECRET: must be at least 32 bytes')
  }

  const metricsToken = str(env, 'METRICS_TOKEN')
  if (metricsToken !== undefined && Buffer.byteLength(metricsToken) < 32) {
    throw new ConfigError('METRICS_TOKEN: must be at least 32 bytes')
  }
  // 0 (any free port, logged at start) is for tests; the main port cannot be shared.
  const metricsPort =
    str(env, 'METRICS_PORT') === undefined ? undefined : int(env, 'METRICS_PORT', 0, 0, 65535)
  if (metricsPort !== undefined && metricsPort !== 0 && metricsPort === port) {
    throw new ConfigError('METRICS_PORT: must differ from PORT')
  }

  const urlHost = host.includes(':') ? `[${host}]` : host
  const publicUrl = httpUrl('PUBLIC_URL', str(env, 'PUBLIC_URL') ?? `http://${urlHost}:${port}`)
  const jwtIssuer = str(env, 'JWT_ISSUER') ?? publicUrl

  const logLevel = str(env, 'LOG_LEVEL') ?? 'info'
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL: expected one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`)
  }

  const passwordMinLength = int(env, 'PASSWORD_MIN_LENGTH', 8, 1, 1024)
  const firstSuperuserEmail = str(env, 'FIRST_SUPERUSER_EMAIL')
  const firstSuperuserPassword = env.FIRST_SUPERUSER_PASSWORD || undefined
  if (firstSuperuserEmail !== undefined && !isValidEmail(firstSuperuserEmail)) {
    throw new ConfigError('FIRST_SUPERUSER_EMAIL: not an email address')
  }
  if ((firstSuperuserEmail === undefined) !== (firstSuperuserPassword === undefined)) {
    throw new ConfigError(
      'FIRST_SUPERUSER_PASSWORD: FIRST_SUPERUSER_EMAIL and FIRST_SUPERUSER_PASSWORD go together',
    )
  }

  const origins = corsOrigins(env)
  const corsCredentials = bool(env, 'CORS_ALLOW_CREDENTIALS', false)
  // Fetch standard (CORS protocol): browsers refuse `Access-Control-Allow-Origin: *`
  // on a credentialed request, and reflecting any origin with credentials would
  // let every site act with the user's cookies.
  if (corsCredentials && origins[0] === '*') {
    throw new ConfigError(
      'CORS_ALLOW_CREDENTIALS: cannot be on with CORS_ORIGINS=*; list the origins',
    )
  }
  const logFormat = str(env, 'LOG_FORMAT') ?? 'auto'
  if (logFormat !== 'auto' && logFormat !== 'json' && logFormat !== 'pretty') {
    throw new ConfigError(`LOG_FORMAT: expected auto, json or pretty, got "${logFormat}"`)
  }

  const webConcurrency = int(env, 'WEB_CONCURRENCY', 1, 1, 64)
  const dbUrl = databaseUrl(str(env, 'DATABASE_URL') ?? 'sqlite:./data/keygate.db')
  if (webConcurrency > 1 && dbUrl === 'sqlite::memory:') {
    throw new ConfigError('WEB_CONCURRENCY: workers cannot share an in-memory SQLite database')
  }

  return {
    production,
    nodeEnv,
    host,
    port,
    databaseUrl: dbUrl,
    dbPoolSize: int(env, 'DB_POOL_SIZE', 10, 1, 1000),
    redisUrl: urlWithScheme('REDIS_URL', str(env, 'REDIS_URL'), ['redis:', 'rediss:']),
    redisKeyPrefix: str(env, 'REDIS_KEY_PREFIX') ?? 'keygate:',
    secretKey,
    jwtAlgorithm: algorithm as JwtAlgorithm,
    dataDir: str(env, 'DATA_DIR') ?? './data',
    jwtPrivateKeyFile: str(env, 'JWT_PRIVATE_KEY_FILE'),
    idTokenKeyFile: str(env, 'ID_TOKEN_KEY_FILE'),
    publicUrl,
    jwtIssuer,
    jwtAudience: str(env, 'JWT_AUDIENCE') ?? 'keygate',
    accessTokenExpireMinutes: int(env, 'ACCESS_TOKEN_EXPIRE_MINUTES', 30, 1, 24 * 60),
    refreshTokenExpireDays: int(env, 'REFRESH_TOKEN_EXPIRE_DAYS', 30, 1, 3650),
    sessionMaxDays: int(env, 'SESSION_MAX_DAYS', 90, 1, 3650),
    auditRetentionDays: int(env, 'AUDIT_RETENTION_DAYS', 180, 1, 36500),
    refreshReuseGraceSeconds: int(env, 'REFRESH_REUSE_GRACE_SECONDS', 10, 0, 3600),
    passwordResetExpireMinutes: int(env, 'PASSWORD_RESET_EXPIRE_MINUTES', 30, 1, 24 * 60),
    requireVerifiedEmail: bool(env, 'REQUIRE_VERIFIED_EMAIL', false),
    trustProxy: trustedProxies(env),
    smtpUrl: urlWithScheme('SMTP_URL', str(env, 'SMTP_URL'), ['smtp:', 'smtps:']),
    mailFrom: str(env, 'MAIL_FROM') ?? 'Keygate <no-reply@localhost>',
    introspectionSecret,
    corsOrigins: origins,
    corsCredentials,
    firstSuperuserEmail,
    firstSuperuserPassword,
    passwordMinLength,
    logLevel,
    logFormat,
    webConcurrency,
    argon2: {
      memoryCost: int(env, 'ARGON2_MEMORY_KIB', 19456, 1024, 4 * 1024 * 1024),
      timeCost: int(env, 'ARGON2_TIME_COST', 2, 1, 100),
      parallelism: int(env, 'ARGON2_PARALLELISM', 1, 1, 16),
    },
    // The cores are shared by all workers: N workers × cores hashes would oversubscribe them.
    hashConcurrency: int(
      env,
      'HASH_CONCURRENCY',
      Math.max(1, Math.floor(availableParallelism() / webConcurrency)),
      1,
      256,
    ),
    rateLimit: {
      enabled: bool(env, 'RATE_LIMIT', true),
      accountClientFailures: int(env, 'RATE_LIMIT_ACCOUNT_CLIENT_FAILURES', 5, 1, 1_000_000),
      baseDelaySeconds: int(env, 'RATE_LIMIT_BASE_DELAY_SECONDS', 30, 1, 86_400),
      maxDelaySeconds: int(env, 'RATE_LIMIT_MAX_DELAY_SECONDS', 900, 1, 86_400),
      accountFailuresPerHour: int(env, 'RATE_LIMIT_ACCOUNT_FAILURES_PER_HOUR', 100, 1, 1_000_000),
      clientRequestsPerMinute: int(env, 'RATE_LIMIT_CLIENT_PER_MINUTE', 300, 1, 1_000_000),
      signupConflictsPerHour: int(env, 'RATE_LIMIT_SIGNUP_CONFLICTS_PER_HOUR', 100, 1, 1_000_000),
      resetMailIntervalSeconds: int(env, 'RATE_LIMIT_RESET_MAIL_INTERVAL_SECONDS', 60, 0, 86_400),
      resetMailsPerHour: int(env, 'RATE_LIMIT_RESET_MAILS_PER_HOUR', 5, 1, 1_000_000),
      postsPerMinute: int(env, 'RATE_LIMIT_POSTS_PER_MINUTE', 120, 1, 1_000_000),
    },
    migrateOnStart: bool(env, 'MIGRATE_ON_START', true),
    maxConnections: int(env, 'MAX_CONNECTIONS', 4096, 1, 1_000_000),
    maxConnectionsPerClient: int(env, 'MAX_CONNECTIONS_PER_CLIENT', 256, 0, 1_000_000),
    metricsToken,
    metricsPort,
  }
}
