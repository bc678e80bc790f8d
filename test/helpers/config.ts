import { type Config, loadConfig } from '../../src/config.js'

export const TEST_SECRET = 'test-secret-key-that-is-32-bytes-long!!'

/** Production code paths with cheap Argon2id parameters, a fixed key and no log noise. */
export function testConfig(overrides: Partial<Config> = {}): Config {
  const base = loadConfig({})
  return {
    ...base,
    databaseUrl: 'sqlite::memory:',
    secretKey: TEST_SECRET,
    logLevel: 'silent',
    argon2: { memoryCost: 1024, timeCost: 1, parallelism: 1 },
    hashConcurrency: 2,
    rateLimit: { ...base.rateLimit, enabled: false },
    ...overrides,
  }
}
