import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../src/config.js'

describe('WEB_CONCURRENCY', () => {
  it('defaults to one process', () => {
    expect(loadConfig({}).webConcurrency).toBe(1)
  })

  it('accepts a worker count and refuses nonsense with a line naming the variable', () => {
    expect(loadConfig({ WEB_CONCURRENCY: '4' }).webConcurrency).toBe(4)
    for (const bad of ['0', '-1', 'two', '65']) {
      expect(() => loadConfig({ WEB_CONCURRENCY: bad })).toThrow(/^WEB_CONCURRENCY: /)
    }
  })

  it('refuses several workers on an in-memory SQLite database (each would have its own)', () => {
    expect(() => loadConfig({ WEB_CONCURRENCY: '2', DATABASE_URL: 'sqlite::memory:' })).toThrow(
      new ConfigError('WEB_CONCURRENCY: workers cannot share an in-memory SQLite database'),
    )
    expect(
      loadConfig({ WEB_CONCURRENCY: '1', DATABASE_URL: 'sqlite::memory:' }).webConcurrency,
    ).toBe(1)
  })
})
