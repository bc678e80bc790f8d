import type { FastifyInstance } from 'fastify'
import { onTestFinished } from 'vitest'
import { type BuildOptions, buildApp } from '../../src/app.js'
import type { Config } from '../../src/config.js'
import type { Database } from '../../src/db/database.js'
import { createTestClock, type TestClock } from './clock.js'
import { testConfig } from './config.js'
import { createTestDatabase } from './db.js'

export interface TestApp {
  app: FastifyInstance
  database: Database
  clock: TestClock
  config: Config
}

/**
 * A real app on its own fresh database with a movable clock, closed (and its
 * database dropped) when the current test finishes. Call it inside a test.
 */
export async function buildTestApp(
  overrides: Partial<Config> = {},
  options: BuildOptions = {},
): Promise<TestApp> {
  const config = testConfig(overrides)
  const database = options.database ?? (await createTestDatabase())
  const clock = createTestClock()
  let app: FastifyInstance | undefined
  // Registered before buildApp, so a failed start-up still drops the test schema.
  onTestFinished(async () => {
    await app?.close()
    await database.close()
  })
  app = await buildApp(config, { clock, ...options, database })
  return { app, database, clock, config }
}
