import { parseOptions } from '@node-rs/argon2'
import type { Argon2Params } from '../config.js'
import { createHashPool } from './hash-pool.js'

export interface VerifyResult {
  ok: boolean
  /** the stored hash is weaker than the configured Argon2id: replace it after this login */
  needsRehash: boolean
}

export interface PasswordHasher {
  hash(password: string): Promise<string>
  verify(storedHash: string, password: string): Promise<VerifyResult>
  /** Spends the time of a real verification on a throwaway hash (unknown-account logins). */
  verifyDummy(password: string): Promise<void>
  /** True when the hash is one of the formats `verify` understands. */
  isSupportedHash(storedHash: string): boolean
  /** Stops the hashing threads. */
  close(): Promise<void>
}

// @node-rs/argon2's Algorithm is a const enum, which verbatimModuleSyntax cannot import.
const ARGON2ID = 2
const BCRYPT = /^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/

export function createPasswordHasher(params: Argon2Params, concurrency: number): PasswordHasher {
  const pool = createHashPool(concurrency)
  const options = { algorithm: ARGON2ID, ...params }

  // Hashed once, lazily, with the configured parameters, so an unknown account
  // costs what a known one does and timing does not reveal which emails exist.
  let dummy: Promise<string> | undefined
  const dummyHash = () => (dummy ??= pool.argon2Hash('keygate-dummy-password', options))

  const weakerThanConfigured = (storedHash: string): boolean => {
    const p = parseOptions(storedHash)
    return (
      p.algorithm !== ARGON2ID || p.memoryCost < params.memoryCost || p.timeCost < params.timeCost
    )
  }

  async function verify(storedHash: string, password: string): Promise<VerifyResult> {
    if (storedHash.startsWith('$argon2')) {
      const ok = await pool.argon2Verify(storedHash, password).catch(() => false)
      return { ok, needsRehash: ok && weakerThanConfigured(storedHash) }
    }
    if (BCRYPT.test(storedHash)) {
      // passlib's bcrypt checked only the first 72 UTF-8 bytes; so must we, to
      // accept the old password. The re-hash that follows covers all of it.
      const bytes = Buffer.from(password, 'utf8').subarray(0, 72)
      const ok = await pool.bcryptVerify(bytes, storedHash).catch(() => false)
      return { ok, needsRehash: ok }
    }
    return { ok: false, needsRehash: false }
  }

  return {
    hash: (password) => pool.argon2Hash(password, options),
    verify,
    async verifyDummy(password) {
      const h = await dummyHash()
      await pool.argon2Verify(h, password).catch(() => false)
    },
    isSupportedHash: (h) => h.startsWith('$argon2') || BCRYPT.test(h),
    close: () => pool.close(),
  }
}
