import { randomBytes } from 'node:crypto'
import { parseOptions } from '@node-rs/argon2'
import type { Argon2Params } from '../../config.js'
import { COST_CAPS, type HashProblem } from './cost-caps.js'
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
  /** True when the hash is one of the formats `verify` understands, within COST_CAPS. */
  isSupportedHash(storedHash: string): boolean
  /** Why `verify` would refuse the hash without running (undefined: it would run). */
  hashProblem(storedHash: string): HashProblem | undefined
  /** Stops the hashing threads, waiting at most `timeoutMs` for running hashes. */
  close(timeoutMs?: number): Promise<void>
}

// @node-rs/argon2's Algorithm is a const enum, which verbatimModuleSyntax cannot import.
const ARGON2ID = 2
// PHC strings as argon2-cffi (passlib) and @node-rs/argon2 write them; `v=` is absent in 1.0 hashes.
const ARGON2 =
  /^\$argon2(?:id|i|d)\$(?:v=(?:16|19)\$)?m=(\d{1,7}),t=(\d{1,3}),p=(\d{1,2})\$[A-Za-z0-9+/]{11,}\$[A-Za-z0-9+/]{16,}$/

/** The cost of a well-formed Argon2 PHC string, else undefined. */
function argon2Cost(hash: string) {
  const m = ARGON2.exec(hash)
  if (!m) return undefined
  const [memory, time, lanes] = [Number(m[1]), Number(m[2]), Number(m[3])]
  return memory >= 8 * lanes && time >= 1 && lanes >= 1 ? { memory, time, lanes } : undefined
}

/** How long a shutdown waits for hashes already running (a capped one takes about a second). */
const CLOSE_TIMEOUT_MS = 5000

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

  // COST_CAPS, raised to the configured parameters so Keygate's own hashes always verify.
  const maxMemory = Math.max(params.memoryCost, COST_CAPS.argon2MemoryKiB)
  const maxWork = Math.max(params.memoryCost * params.timeCost, COST_CAPS.argon2Work)
  const maxLanes = Math.max(params.parallelism, COST_CAPS.argon2Lanes)

  function hashProblem(storedHash: string): HashProblem | undefined {
    const a = argon2Cost(storedHash)
    if (a) {
      const capped = a.memory <= maxMemory && a.memory * a.time <= maxWork && a.lanes <= maxLanes
      return capped ? undefined : 'cost too high'
    }
    const legacy = legacyFormatOf(storedHash)
    if (legacy) return legacy.tooCostly(storedHash) ? 'cost too high' : undefined
    return 'unsupported'
  }

  const weakerThanConfigured = (storedHash: string): boolean => {
    const p = parseOptions(storedHash)
    return (
      p.algorithm !== ARGON2ID || p.memoryCost < params.memoryCost || p.timeCost < params.timeCost
    )
  }

  async function verify(storedHash: string, password: string): Promise<VerifyResult> {
    // Over the cap (or unknown): refused at once, never run.
    if (hashProblem(storedHash)) return { ok: false, needsRehash: false }
    if (argon2Cost(storedHash)) {
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
    isSupportedHash: (h) => hashProblem(h) === undefined,
    hashProblem,
    async close(timeoutMs = CLOSE_TIMEOUT_MS) {
      // Queued legacy checks fail now; a hash already running on a native thread
      // cannot be interrupted, so shutdown waits for it only this long.
      limit.close()
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs)
        timer.unref()
      })
      await Promise.race([pool.close(), timeout])
      clearTimeout(timer)
    },
  }
}
