import { readdirSync, readFileSync } from 'node:fs'
import { hashSync } from '@node-rs/argon2'
import { describe, expect, it, onTestFinished } from 'vitest'
import { createHashPool, HASH_THREAD_NICE } from '../../src/services/crypto/hash-pool.js'
import { must } from '../helpers/must.js'

const CHEAP = { algorithm: 2, memoryCost: 1024, timeCost: 1, parallelism: 1 }

function pool(size: number) {
  const p = createHashPool(size)
  onTestFinished(() => p.close())
  return p
}

/** Threads of this process running at the hashing threads' nice level (Linux). */
function niceThreads(): number {
  return readdirSync('/proc/self/task').filter((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]) === HASH_THREAD_NICE
  }).length
}

describe('hash pool', () => {
  it('hashes and verifies Argon2id off the main thread, many jobs through few threads', async () => {
    const p = pool(2)
    const hashes = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((pw) => p.argon2Hash(pw, CHEAP)))
    expect(hashes.every((h) => h.startsWith('$argon2id$'))).toBe(true)
    expect(await p.argon2Verify(must(hashes[0]), 'a')).toBe(true)
    expect(await p.argon2Verify(must(hashes[0]), 'b')).toBe(false)
    expect(await p.argon2Verify(hashSync('x', CHEAP), 'x')).toBe(true)
  })

  it('passes errors back as rejections (a malformed hash)', async () => {
    await expect(pool(1).argon2Verify('$argon2id$broken', 'a')).rejects.toThrow()
  })

  it.runIf(process.platform === 'linux')(
    'runs at most `size` threads, each at nice 5',
    async () => {
      const before = niceThreads()
      const p = pool(2)
      await Promise.all([1, 2, 3, 4, 5, 6].map((i) => p.argon2Hash(`pw${i}`, CHEAP)))
      expect(niceThreads() - before).toBe(2)
      await p.close()
      expect(niceThreads()).toBe(before)
    },
  )

  it('refuses work after close', async () => {
    const p = pool(1)
    await p.close()
    await expect(p.argon2Hash('a', CHEAP)).rejects.toThrow('closed')
  })
})
