import { afterAll, describe, expect, it } from 'vitest'
import { tempDataDir } from '../helpers/server.js'
import { startServer, stopAllServers } from '../helpers/server-process.js'

afterAll(stopAllServers)

// SIGHUP re-reads the signing-key file at once, in a single server and in every
// worker of a cluster (whose primary forwards the signal).
describe('SIGHUP', () => {
  for (const workers of [1, 2]) {
    it(`reloads the signing keys with WEB_CONCURRENCY=${workers} and keeps serving`, async () => {
      const dir = tempDataDir()
      const server = await startServer(
        {
          DATA_DIR: dir,
          DATABASE_URL: `sqlite:${dir}/keygate.db`,
          JWT_ALGORITHM: 'EdDSA',
          WEB_CONCURRENCY: String(workers),
        },
        { workers },
      )
      process.kill(server.pid, 'SIGHUP')
      for (let n = 1; n <= workers; n++) {
        await server.waitFor(
          () => server.lines.filter((l) => l.msg === 'signing keys reloaded').length >= n,
        )
      }
      const jwks = await fetch(`${server.url}/.well-known/jwks.json`)
      expect(jwks.status).toBe(200)
      expect(((await jwks.json()) as { keys: unknown[] }).keys.length).toBeGreaterThan(0)
      expect(await server.stop()).toBe(0)
    })
  }
})
