import { resolve } from 'node:path'
import { CONFIG_VARIABLES, type Config } from './config.js'
import { keyFilePath } from './services/keys/key-files.js'

type Env = Record<string, string | undefined>

// Names that FastAPI apps (the tutorials, the full-stack template) use for
// what Keygate calls otherwise: a migrating user pastes their .env.
const FOREIGN_NAMES: Record<string, string> = {
  ALGORITHM: 'JWT_ALGORITHM',
  JWT_SECRET: 'SECRET_KEY',
  JWT_SECRET_KEY: 'SECRET_KEY',
  SQLALCHEMY_DATABASE_URI: 'DATABASE_URL',
  SQLALCHEMY_DATABASE_URL: 'DATABASE_URL',
  BACKEND_CORS_ORIGINS: 'CORS_ORIGINS',
  FIRST_SUPERUSER: 'FIRST_SUPERUSER_EMAIL',
  REFRESH_TOKEN_EXPIRE_MINUTES: 'REFRESH_TOKEN_EXPIRE_DAYS',
}

/** Optimal string alignment distance: edits, with a swap of neighbours counted as one. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  )
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, d[i - 2]![j - 2]! + 1)
      }
      d[i]![j] = best
    }
  }
  return d[a.length]![b.length]!
}

/** The known variable `name` was probably meant as, if any. */
function likelyMeant(name: string): string | undefined {
  const known: readonly string[] = CONFIG_VARIABLES
  if (known.includes(name)) return undefined
  const upper = name.toUpperCase()
  if (known.includes(upper)) return upper
  if (FOREIGN_NAMES[upper]) return FOREIGN_NAMES[upper]
  if (upper.startsWith('KEYGATE_') && known.includes(upper.slice(8))) return upper.slice(8)
  let best: { name: string; d: number } | undefined
  for (const candidate of known) {
    // Short names differ from everyday variables (HOME, PATH) by two edits easily.
    const allowed = candidate.length >= 8 ? 2 : 1
    const d = distance(upper, candidate)
    if (d <= allowed && (!best || d < best.d)) best = { name: candidate, d }
  }
  return best?.name
}

/** One warning per environment variable that looks like a misspelt Keygate setting. */
export function misspeltVariables(env: Env): string[] {
  const warnings: string[] = []
  for (const name of Object.keys(env).sort()) {
    const meant = likelyMeant(name)
    if (meant) {
      warnings.push(`${name} is not a Keygate setting and is ignored: did you mean ${meant}?`)
    }
  }
  return warnings
}

/** What an operator must know before trusting this start-up (issue 14: loud, not silent). */
export function startupWarnings(config: Config, env: Env): string[] {
  const warnings = misspeltVariables(env)
  if (!config.rateLimit.enabled) {
    warnings.push(
      'RATE_LIMIT=off: sign-in, signup and password reset are NOT throttled; for load tests only, never in front of users',
    )
  }
  if (config.webConcurrency > 1 && config.redisUrl === undefined && config.rateLimit.enabled) {
    warnings.push(
      `WEB_CONCURRENCY=${config.webConcurrency} without REDIS_URL: each worker counts failures alone, so the throttling limits are ${config.webConcurrency} times looser; set REDIS_URL to share them`,
    )
  }
  return warnings
}

/** A URL with its password replaced, for logs (a DATABASE_URL often holds one). */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw)
    if (url.password === '') return raw
    url.password = '***'
    return url.toString()
  } catch {
    return raw.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:***@')
  }
}

/** `host:port` of a network URL, for failure logs that must say where they looked. */
export function hostPort(raw: string, defaultPort: number): string {
  try {
    const url = new URL(raw)
    return `${url.hostname || 'localhost'}:${url.port || defaultPort}`
  } catch {
    return 'unknown host'
  }
}

function describeDatabase(config: Config): string {
  if (!config.databaseUrl.startsWith('sqlite:')) return redactUrl(config.databaseUrl)
  const path = config.databaseUrl.slice('sqlite:'.length)
  return path === ':memory:' ? 'SQLite in memory (lost on exit)' : `SQLite ${resolve(path)}`
}

function describeKeys(config: Config, env: Env): string {
  if (config.jwtAlgorithm !== 'HS256')
    return `${config.jwtAlgorithm} keys from ${keyFilePath(config)}`
  if (env.SECRET_KEY?.trim()) return 'HS256 with SECRET_KEY'
  return `HS256 with the development key in ${resolve(config.dataDir, 'secret.key')}`
}

function describeCors(config: Config): string {
  if (config.corsOrigins.length === 0) return 'off (no browser origin may call the API)'
  // `*`: any web page may call the API with a bearer token it holds; no cookies are sent.
  if (config.corsOrigins[0] === '*') return 'any origin (*), without credentials'
  const credentials = config.corsCredentials ? ', with credentials' : ''
  return `${config.corsOrigins.join(', ')}${credentials}`
}

/** The one start-up line a person reads: where it listens, what it uses. */
export function startupSummary(config: Config, env: Env) {
  const fields = {
    mode: config.nodeEnv,
    listen: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`,
    publicUrl: config.publicUrl,
    docs: `${config.publicUrl}/docs`,
    database: describeDatabase(config),
    keys: describeKeys(config, env),
    redis: config.redisUrl
      ? redactUrl(config.redisUrl)
      : 'off (throttle counters in process memory)',
    cors: describeCors(config),
    workers: config.webConcurrency,
  }
  // For a terminal (pretty logs): one block a person reads at a glance.
  const text = [
    `Keygate (${fields.mode}) listening on ${fields.listen}`,
    ...(config.publicUrl !== fields.listen ? [`  public URL ${fields.publicUrl}`] : []),
    `  docs       ${fields.docs}`,
    `  database   ${fields.database}`,
    `  keys       ${fields.keys}`,
    `  redis      ${fields.redis}`,
    `  cors       ${fields.cors}`,
    ...(fields.workers > 1 ? [`  workers    ${fields.workers}`] : []),
  ].join('\n')
  const msg = [
    `Keygate (${fields.mode}) listening on ${fields.listen}`,
    `docs ${fields.docs}`,
    `database ${fields.database}`,
    `keys ${fields.keys}`,
    `redis ${fields.redis}`,
    ...(fields.workers > 1 ? [`${fields.workers} workers`] : []),
  ].join(' · ')
  return { fields, msg, text }
}
