import { randomBytes } from 'node:crypto'
import { parseOptions } from '@node-rs/argon2'
import type { Argon2Params } from '../../config.js'
import { createHashPool } from './hash-pool.js'
import { legacyFormatOf } from './legacy-hashes.js'
import { createSemaphore } from './semaphore.js'

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
// PHC strings as argon2-cffi (passlib) and @node-rs/argon2 write them; `v=` is absent in 1.0 hashes.
const ARGON2 =
  /^\$argon2(?:id|i|d)\$(?:v=(?:16|19)\$)?m=(\d{1,7}),t=(\d{1,3}),p=(\d{1,2})\$[A-Za-z0-9+/]{11,}\$[A-Za-z0-9+/]{16,}$/

/** Within the bounds config accepts for our own hashes, so an import cannot smuggle in a 1 TiB cost. */
function isArgon2(hash: string): boolean {
  const m = ARGON2.exec(hash)
  if (!m) return false
  const [memory, time, lanes] = [Number(m[1]), Number(m[2]), Number(m[3])]
  return memory >= 8 * lanes && memory <= 4 * 1024 * 1024 && time >= 1 && time <= 100 && lanes >= 1
}

export function createPasswordHasher(
  params: Argon2Params,
  concurrency: number,
  /** metrics of the hashing queue (services/metrics) */
  observer?: Parameters<typeof createHashPool>[2],
): PasswordHasher {
  // Argon2id, the hot path, runs on the low-priority hashing threads (hash-pool.ts);
  // legacy formats, verified once per imported account, on the libuv pool.
  const pool = createHashPool(concurrency, undefined, observer)
  const limit = createSemaphore(concurrency)
  const options = { algorithm: ARGON2ID, ...params }

  // Unknown accounts verify against this, so they cost what a known one does.
  // Verifying costs one Argon2id run with the parameters in the string, whatever
  // salt and digest it holds, so random bytes serve and start-up hashes nothing.
  const b64 = (n: number) => randomBytes(n).toString('base64').replace(/=+$/, '')
  const dummy = `$argon2id$v=19$m=${params.memoryCost},t=${params.timeCost},p=${params.parallelism}$${b64(16)}$${b64(32)}`

  const weakerThanConfigured = (storedHash: string): boolean => {
    const p = parseOptions(storedHash)
    return (
      p.algorithm !== ARGON2ID || p.memoryCost < params.memoryCost || p.timeCost < params.timeCost
    )
  }

  async function verify(storedHash: string, password: string): Promise<VerifyResult> {
    if (isArgon2(storedHash)) {
      const ok = await pool.argon2Verify(storedHash, password).catch(() => false)
      return { ok, needsRehash: ok && weakerThanConfigured(storedHash) }
    }
    // Formats imported from passlib apps are always replaced after a correct password.
    const legacy = legacyFormatOf(storedHash)
    if (legacy) {
      const ok = await limit(() => legacy.verify(storedHash, password)).catch(() => false)
      return { ok, needsRehash: ok }
    }
    return { ok: false, needsRehash: false }
  }

  return {
    hash: (password) => pool.argon2Hash(password, options),
    verify,
    async verifyDummy(password) {
      await pool.argon2Verify(dummy, password).catch(() => false)
    },
    isSupportedHash: (h) => isArgon2(h) || legacyFormatOf(h) !== undefined,
    close: () => pool.close(),
  }
}
