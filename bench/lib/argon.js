// The login ceiling: how many Argon2id verifications per second the cores can do.
import { availableParallelism } from 'node:os'
import { hash, verify } from '@node-rs/argon2'

/** Production parameters (SPEC; config.ts defaults): Argon2id, 19 MiB, t=2, p=1. */
export const ARGON2_PRODUCTION = { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 }

/** Median time of one verify, measured one at a time in this process. */
export async function argonCeiling(samples = 15) {
  const h = await hash('correct horse battery staple', ARGON2_PRODUCTION)
  await verify(h, 'correct horse battery staple')
  const times = []
  for (let i = 0; i < samples; i++) {
    const t = performance.now()
    await verify(h, 'correct horse battery staple')
    times.push(performance.now() - t)
  }
  times.sort((a, b) => a - b)
  const verifyMs = times[Math.floor(times.length / 2)]
  const cores = availableParallelism()
  return { verifyMs, cores, ceilingRps: (cores * 1000) / verifyMs }
}
