import { afterAll, beforeAll } from 'vitest'
import { testDialect } from '../helpers/db.js'
import { createServerDatabase, type ServerDatabase } from '../helpers/server-db.js'
import { type ServerProcess, startServer, stopAllServers } from '../helpers/server-process.js'

/** Why the multi-instance suites cannot run here, or undefined when they can. */
export const multiSkipReason =
  testDialect !== 'postgres'
    ? 'needs KEYGATE_TEST_DB=postgres (npm test sets it in its PostgreSQL run)'
    : !process.env.TEST_REDIS_URL
      ? 'needs TEST_REDIS_URL (a reachable Redis)'
      : undefined

export interface Pair {
  a: ServerProcess
  b: ServerProcess
}

/**
 * Two real Keygate processes on their own ports, sharing one fresh PostgreSQL
 * database and the test Redis, as two instances behind a load balancer.
 * Started in beforeAll, killed (and the database dropped) in afterAll.
 */
export function useServerPair(env: Record<string, string> = {}): Pair {
  const pair = {} as Pair
  let db: ServerDatabase | undefined
  beforeAll(async () => {
    db = await createServerDatabase('postgres')
    const shared = {
      DATABASE_URL: db.url,
      REDIS_URL: process.env.TEST_REDIS_URL ?? '',
      // Same issuer on every instance, or tokens would not cross between them.
      PUBLIC_URL: 'http://keygate.test',
      ...env,
    }
    // Started together: Kysely's migration lock makes one of them apply the migrations.
    const [a, b] = await Promise.all([startServer(shared), startServer(shared)])
    Object.assign(pair, { a, b })
  }, 120_000)
  afterAll(async () => {
    await stopAllServers()
    await db?.drop()
  }, 30_000)
  return pair
}
