import { createHash, createHmac, pbkdf2, timingSafeEqual } from 'node:crypto'
import { promisify } from 'node:util'
import { verify as bcryptVerify } from '@node-rs/bcrypt'
import { COST_CAPS } from './cost-caps.js'

/**
 * Hash formats Keygate accepts from an existing passlib-based app (FastAPI's
 * tutorials use passlib's CryptContext) but never writes: a successful login
 * re-hashes the password to Argon2id. Each `verify` is called through the
 * hasher's limiter and runs off the event loop (@node-rs/bcrypt, libuv's pbkdf2).
 */
export interface LegacyFormat {
  name: string
  /** a well-formed hash of this format */
  matches(hash: string): boolean
  /** a well-formed hash whose cost is over COST_CAPS: never verified */
  tooCostly(hash: string): boolean
  verify(hash: string, password: string): Promise<boolean>
}

const pbkdf2Async = promisify(pbkdf2)

const BCRYPT = /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/

export const bcrypt: LegacyFormat = {
  name: 'bcrypt',
  matches: (h) => BCRYPT.test(h),
  tooCostly: (h) => Number(BCRYPT.exec(h)?.[1]) > COST_CAPS.bcryptCost,
  async verify(hash, password) {
    // passlib's bcrypt (like OpenBSD's) looked at only the first 72 UTF-8 bytes;
    // so must we, to accept the old password. The re-hash that follows covers all of it.
    const bytes = Buffer.from(password, 'utf8').subarray(0, 72)
    return bcryptVerify(bytes, hash)
  },
}

// passlib 1.7.3+: `$bcrypt-sha256$v=2,t=2b,r=12$<salt22>$<digest31>`, bcrypt over
// base64(HMAC-SHA256(key = the salt string, msg = password)). The last salt
// character carries only padding bits, so passlib allows just `.Oeu` there.
const BCRYPT_SHA256_V2 =
  /^\$bcrypt-sha256\$v=2,t=(2b),r=([1-9]\d?)\$([./A-Za-z0-9]{21}[.Oeu])\$([./A-Za-z0-9]{31})$/
// passlib 1.6.2–1.7.2: `$bcrypt-sha256$2b,12$<salt22>$<digest31>`, bcrypt over base64(SHA-256(password)).
const BCRYPT_SHA256_V1 =
  /^\$bcrypt-sha256\$(2[ab]),([1-9]\d?)\$([./A-Za-z0-9]{22})\$([./A-Za-z0-9]{31})$/

function parseBcryptSha256(hash: string) {
  const v2 = BCRYPT_SHA256_V2.exec(hash)
  const m = v2 ?? BCRYPT_SHA256_V1.exec(hash)
  const [, ident, cost, salt, digest] = m ?? []
  if (ident === undefined || salt === undefined || digest === undefined) return undefined
  const rounds = Number(cost)
  if (rounds < 4 || rounds > 31) return undefined
  return { version: v2 ? 2 : 1, ident, rounds, salt, digest }
}

export const bcryptSha256: LegacyFormat = {
  name: 'bcrypt-sha256',
  matches: (h) => parseBcryptSha256(h) !== undefined,
  tooCostly: (h) => (parseBcryptSha256(h)?.rounds ?? 0) > COST_CAPS.bcryptCost,
  async verify(hash, password) {
    const p = parseBcryptSha256(hash)
    if (!p) return false
    const secret = Buffer.from(password, 'utf8')
    const digest =
      p.version === 2
        ? createHmac('sha256', Buffer.from(p.salt, 'ascii')).update(secret).digest()
        : createHash('sha256').update(secret).digest()
    // 44 characters of standard, padded base64: always under bcrypt's 72 bytes.
    const key = digest.toString('base64')
    const inner = `$${p.ident}$${String(p.rounds).padStart(2, '0')}$${p.salt}${p.digest}`
    return bcryptVerify(key, inner)
  },
}

// passlib's "adapted base64": standard alphabet with `.` for `+`, no padding.
const AB64 = '[./A-Za-z0-9]'
const PBKDF2_DIGESTS = { sha1: 20, sha256: 32, sha512: 64 } as const
type Pbkdf2Digest = keyof typeof PBKDF2_DIGESTS
const PBKDF2 = new RegExp(
  `^\\$pbkdf2(?:-(sha256|sha512))?\\$([1-9]\\d{0,7})\\$(${AB64}{0,1024})\\$(${AB64}{27,86})$`,
)
const ab64Decode = (s: string) => Buffer.from(s.replaceAll('.', '+'), 'base64')
const b64Length = (bytes: number) => Math.ceil((bytes * 4) / 3)

function parsePbkdf2(hash: string) {
  const [, name, cost, salt, checksum] = PBKDF2.exec(hash) ?? []
  if (cost === undefined || salt === undefined || checksum === undefined) return undefined
  const digest: Pbkdf2Digest = (name as Pbkdf2Digest | undefined) ?? 'sha1'
  const size = PBKDF2_DIGESTS[digest]
  const rounds = Number(cost)
  if (checksum.length !== b64Length(size)) return undefined
  return { digest, size, rounds, salt: ab64Decode(salt), checksum: ab64Decode(checksum) }
}

/** passlib's `$pbkdf2-sha256$`, `$pbkdf2-sha512$` and `$pbkdf2$` (SHA-1): `$rounds$salt$checksum`. */
export const pbkdf2Sha: LegacyFormat = {
  name: 'pbkdf2',
  matches: (h) => parsePbkdf2(h) !== undefined,
  tooCostly: (h) => (parsePbkdf2(h)?.rounds ?? 0) > COST_CAPS.pbkdf2Rounds,
  async verify(hash, password) {
    const p = parsePbkdf2(hash)
    if (!p) return false
    const derived = await pbkdf2Async(password, p.salt, p.rounds, p.size, p.digest)
    return timingSafeEqual(derived, p.checksum)
  },
}

export const LEGACY_FORMATS: readonly LegacyFormat[] = [bcrypt, bcryptSha256, pbkdf2Sha]

export const legacyFormatOf = (hash: string): LegacyFormat | undefined =>
  LEGACY_FORMATS.find((f) => f.matches(hash))
