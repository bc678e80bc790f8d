import { availableParallelism } from 'node:os'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config.js'

describe('HASH_CONCURRENCY', () => {
  it('defaults to the cores, shared out among WEB_CONCURRENCY workers (at least one each)', () => {
    const cores = availableParallelism()
    expect(loadConfig({}).hashConcurrency).toBe(cores)
    expect(loadConfig({ WEB_CONCURRENCY: String(cores) }).hashConcurrency).toBe(1)
    expect(loadConfig({ WEB_CONCURRENCY: String(cores * 4) }).hashConcurrency).toBe(1)
    if (cores >= 2)
      expect(loadConfig({ WEB_CONCURRENCY: '2' }).hashConcurrency).toBe(Math.floor(cores / 2))
  })

  it('takes an explicit value over the default', () => {
    expect(loadConfig({ HASH_CONCURRENCY: '3', WEB_CONCURRENCY: '8' }).hashConcurrency).toBe(3)
    expect(() => loadConfig({ HASH_CONCURRENCY: '0' })).toThrow(/^HASH_CONCURRENCY: /)
  })
})
