import { hash as argon2Hash } from '@node-rs/argon2'
import { describe, expect, it } from 'vitest'
import { COST_CAPS } from '../../src/services/crypto/cost-caps.js'
import { createPasswordHasher } from '../../src/services/crypto/passwords.js'
import { createSemaphore } from '../../src/services/crypto/semaphore.js'

// Issue 14: a stored hash with an absurd cost must never run (it pinned a
// hashing thread for minutes and hung shutdown).
const SALT22 = 'a'.repeat(22)
const DIGEST31 = 'b'.repeat(31)
const B64 = (n: number) => 'A'.repeat(n)
const bcryptAt = (cost: number) => `$2b$${String(cost).padStart(2, '0')}$${SALT22}${DIGEST31}`
const pbkdf2At = (rounds: number) => `$pbkdf2-sha256$${rounds}$${B64(22)}$${'A'.repeat(43)}`
const argon2At = (m: number, t: number, p = 1) =>
  `$argon2id$v=19$m=${m},t=${t},p=${p}$${B64(22)}$${B64(43)}`

const ABSURD = [
  bcryptAt(31),
  bcryptAt(COST_CAPS.bcryptCost + 1),
  `$bcrypt-sha256$v=2,t=2b,r=31$${'a'.repeat(21)}e$${DIGEST31}`,
  `$bcrypt-sha256$2b,20$${SALT22}$${DIGEST31}`,
  pbkdf2At(9_999_999),
  pbkdf2At(COST_CAPS.pbkdf2Rounds + 1),
  `$pbkdf2-sha512$99999999$${B64(22)}$${'A'.repeat(86)}`,
  argon2At(4 * 1024 * 1024, 100, 4),
  argon2At(COST_CAPS.argon2MemoryKiB + 1, 1),
  argon2At(65536, 17),
  argon2At(65536, 2, 64),
]

const cheap = { memoryCost: 1024, timeCost: 1, parallelism: 1 }

describe('cost caps of stored hashes', () => {
  it.each(ABSURD)('refuses %s as "cost too high" and fails it at once', async (h) => {
    const hasher = createPasswordHasher(cheap, 1)
    expect(hasher.hashProblem(h)).toBe('cost too high')
    expect(hasher.isSupportedHash(h)).toBe(false)
    const started = performance.now()
    expect(await hasher.verify(h, 'password')).toEqual({ ok: false, needsRehash: false })
    expect(performance.now() - started).toBeLessThan(50)
    await hasher.close()
  })

  it('accepts costs at the caps and what passlib and argon2-cffi write', () => {
    const hasher = createPasswordHasher(cheap, 1)
    for (const h of [
      bcryptAt(COST_CAPS.bcryptCost),
      bcryptAt(12),
      pbkdf2At(COST_CAPS.pbkdf2Rounds),
      pbkdf2At(29_000),
      argon2At(COST_CAPS.argon2MemoryKiB, 4),
      argon2At(65536, 3, 4),
      argon2At(8 * 1024, 100),
    ]) {
      expect(hasher.hashProblem(h), h).toBeUndefined()
    }
    expect(hasher.hashProblem('plaintext')).toBe('unsupported')
  })

  it("never refuses Keygate's own hashes: the caps rise to the configured parameters", () => {
    const big = { memoryCost: 512 * 1024, timeCost: 8, parallelism: 1 }
    const hasher = createPasswordHasher(big, 1)
    expect(hasher.hashProblem(argon2At(512 * 1024, 8))).toBeUndefined()
    expect(hasher.hashProblem(argon2At(512 * 1024 + 1, 8))).toBe('cost too high')
  })
})

describe('bounded shutdown', () => {
  it('close() waits at most its timeout for a hash already running', async () => {
    const params = { memoryCost: 64 * 1024, timeCost: 6, parallelism: 1 }
    const slow = await argon2Hash('pw', { algorithm: 2, ...params })
    const hasher = createPasswordHasher(params, 1)
    const t0 = performance.now()
    await hasher.verify(slow, 'pw')
    const oneHash = performance.now() - t0
    void hasher.verify(slow, 'pw')
    await new Promise((r) => setTimeout(r, 5))
    const started = performance.now()
    await hasher.close(20)
    // Unbounded, close() would wait for the rest of the hash (about oneHash); the
    // margin absorbs a loaded machine's late timers.
    expect(performance.now() - started).toBeLessThan(Math.max(100, oneHash * 0.75))
  })

  it('fails tasks still waiting for a slot, and refuses new ones, once closed', async () => {
    const limit = createSemaphore(1)
    let release!: () => void
    const first = limit(() => new Promise<void>((r) => (release = r)))
    const waiting = limit(async () => 'ran')
    limit.close()
    await expect(waiting).rejects.toThrow('semaphore closed')
    await expect(limit(async () => 'x')).rejects.toThrow('semaphore closed')
    release()
    await first
  })
})
