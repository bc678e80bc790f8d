import { randomUUID } from 'node:crypto'
import type { NewUser } from '../../domain/user.js'
import { isValidEmail, isValidUsername } from '../../domain/user.js'
import { COST_CAPS, type HashProblem } from '../crypto/cost-caps.js'

const COST_TOO_HIGH = `cost too high (hashed_password: at most bcrypt cost ${COST_CAPS.bcryptCost}, PBKDF2 ${COST_CAPS.pbkdf2Rounds} rounds, Argon2 ${COST_CAPS.argon2MemoryKiB / 1024} MiB and ${COST_CAPS.argon2Work / 1024 / 1024} GiB × passes)`

const TRUE = new Set(['true', '1', 't', 'yes', 'y'])
const FALSE = new Set(['false', '0', 'f', 'no', 'n'])

// ISO 8601 as databases export it: `2024-03-02T12:00:00Z`, psql's
// `2024-03-02 12:00:00.123456+00`, or SQLite's `2024-03-02 12:00:00.123456`
// (no zone: SQLAlchemy apps store UTC, so UTC it is).
const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i

const text = (v: unknown): string | undefined =>
  v === undefined || v === null ? undefined : String(v).trim()

function parseBool(v: unknown, fallback: boolean): boolean | undefined {
  if (typeof v === 'boolean') return v
  const s = text(v)?.toLowerCase()
  if (s === undefined || s === '') return fallback
  return TRUE.has(s) ? true : FALSE.has(s) ? false : undefined
}

/** An ISO 8601 date or timestamp, or undefined when it is not one (or not a real day). */
export function parseTimestamp(raw: string): Date | undefined {
  const m = TIMESTAMP.exec(raw)
  if (!m) return undefined
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', zone = 'Z'] = m
  const ms = frac.padEnd(3, '0').slice(0, 3)
  const offset = zone.toUpperCase() === 'Z' ? 'Z' : normalizeOffset(zone)
  const date = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}.${ms}${offset}`)
  if (Number.isNaN(date.getTime())) return undefined
  // Date rolls Feb 30 over to Mar 1; a real export never holds one.
  const day = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)))
  return day.getUTCMonth() === Number(mo) - 1 ? date : undefined
}

function normalizeOffset(zone: string): string {
  const digits = zone.slice(1).replace(':', '')
  return `${zone[0]}${digits.slice(0, 2)}:${digits.slice(2, 4).padEnd(2, '0')}`
}

/**
 * One exported row → the user to insert, or every reason it cannot be. Hash
 * support is asked of the hasher, so what imports is exactly what logs in.
 */
export function toNewUser(
  fields: Record<string, unknown>,
  hashProblem: (hash: string) => HashProblem | undefined,
  now: Date,
): { user: NewUser; problems?: undefined } | { user?: undefined; problems: string[] } {
  const problems: string[] = []
  const email = text(fields.email) ?? ''
  if (email === '') problems.push('email is missing')
  else if (!isValidEmail(email)) problems.push('email is not a valid address')

  const username = text(fields.username) || null
  if (username !== null && !isValidUsername(username))
    problems.push('username must be 3-32 letters, digits, "_", "." or "-"')

  const hash = text(fields.hashed_password) ?? ''
  if (hash === '') problems.push('hashed_password is missing')
  else {
    const problem = hashProblem(hash)
    // A hash too costly to verify would stall every login behind it (cost-caps.ts).
    if (problem === 'cost too high') problems.push(COST_TOO_HIGH)
    else if (problem) problems.push('hashed_password is not a supported or well-formed hash')
  }

  const isActive = parseBool(fields.is_active, true)
  if (isActive === undefined) problems.push('is_active must be true/false/1/0/t/f')
  const isSuperuser = parseBool(fields.is_superuser, false)
  if (isSuperuser === undefined) problems.push('is_superuser must be true/false/1/0/t/f')
  // SPEC §9: an export that says which addresses were verified keeps that; else unverified.
  const emailVerified = parseBool(fields.email_verified, false)
  if (emailVerified === undefined) problems.push('email_verified must be true/false/1/0/t/f')

  const rawCreated = text(fields.created_at)
  const createdAt = rawCreated ? parseTimestamp(rawCreated) : now
  if (createdAt === undefined) problems.push('created_at is not an ISO 8601 date')

  if (
    problems.length > 0 ||
    isActive === undefined ||
    isSuperuser === undefined ||
    emailVerified === undefined ||
    createdAt === undefined
  )
    return { problems }
  return {
    user: {
      id: randomUUID(),
      email,
      username,
      hashed_password: hash,
      is_active: isActive,
      is_superuser: isSuperuser,
      email_verified: emailVerified,
      created_at: createdAt,
    },
  }
}
