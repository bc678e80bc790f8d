// Errors that mean "the database cannot be reached or cannot serve right now",
// as opposed to a bug in a query. They are answered 503 (and retried by clients),
// never 500, and need no restart: the pool reconnects on the next query.

// Socket-level failures from node:net / pg while connecting or mid-query.
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
])

// PostgreSQL SQLSTATEs: 57P01 admin_shutdown (pg_terminate_backend), 57P02
// crash_shutdown, 57P03 cannot_connect_now (starting up), 57014 query_canceled
// (statement_timeout), 53300 too_many_connections. Class 08 is checked below.
const PG_STATES = new Set(['57P01', '57P02', '57P03', '57014', '53300'])

// SQLite result codes (better-sqlite3 puts the extended name in `code`).
const SQLITE_PREFIXES = ['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_CANTOPEN', 'SQLITE_IOERR']

// node-postgres reports a lost or never-made connection only in its message.
const PG_MESSAGES = [
  /^Connection terminated/, // unexpectedly / due to connection timeout
  /^timeout exceeded when trying to connect/, // pool checkout timeout
  /^Query read timeout/, // query_timeout
  /is not queryable/, // client already broken or closed
  /^Cannot use a pool after calling end/,
]

/** A failure to reach the database (not a query bug); see the lists above. */
export class DatabaseUnavailableError extends Error {
  override name = 'DatabaseUnavailableError'
}

function matches(err: object): boolean {
  if (err instanceof DatabaseUnavailableError) return true
  const code = (err as { code?: unknown }).code
  if (typeof code === 'string') {
    if (NETWORK_CODES.has(code) || PG_STATES.has(code)) return true
    if (/^08[0-9A-Z]{3}$/.test(code)) return true // class 08: connection exception
    if (SQLITE_PREFIXES.some((p) => code.startsWith(p))) return true
  }
  const message = (err as { message?: unknown }).message
  return typeof message === 'string' && PG_MESSAGES.some((re) => re.test(message))
}

/**
 * True when `err` (or its `cause`, or one of an AggregateError's `errors`, as
 * Node reports a refused connection to a host with several addresses) says the
 * database is unreachable or unable to serve.
 */
export function isDatabaseUnavailable(err: unknown, depth = 0): boolean {
  if (typeof err !== 'object' || err === null || depth > 4) return false
  if (matches(err)) return true
  const { cause, errors } = err as { cause?: unknown; errors?: unknown }
  if (isDatabaseUnavailable(cause, depth + 1)) return true
  return Array.isArray(errors) && errors.some((e) => isDatabaseUnavailable(e, depth + 1))
}

/** One short line describing a database failure, without the URL (it may hold a password). */
export function describeDatabaseError(err: unknown): string {
  if (typeof err !== 'object' || err === null) return String(err)
  const e = err as { code?: unknown; message?: unknown; errors?: unknown }
  const message = typeof e.message === 'string' && e.message !== '' ? e.message : undefined
  if (message) return message
  if (Array.isArray(e.errors) && e.errors.length > 0) return describeDatabaseError(e.errors[0])
  return typeof e.code === 'string' ? e.code : 'unknown error'
}
