import cluster from 'node:cluster'
import type { Config } from '../config.js'
import { withDevSecret } from '../services/keys/signing-keys.js'
import { createLineLogger, prepareOnce, runCluster } from './cluster.js'
import type { Command } from './index.js'
import { serveMetricsPort, startPrimaryMetrics } from './metrics-port.js'

export const serveCommand: Command = {
  summary: 'Start the HTTP server (the default of `npm start`); WEB_CONCURRENCY=N runs N workers',
  usage: 'keygate serve',
  async run(ctx) {
    // In a cluster the primary runs first, so the dev secret file is created once
    // and the workers read it instead of racing to write it.
    const config = withDevSecret(ctx.config())
    if (config.webConcurrency > 1 && cluster.isPrimary) {
      const log = createLineLogger(config.logLevel, ctx.stdout)
      await prepareOnce(config, log)
      await startPrimaryMetrics(config, log)
      log.info({ workers: config.webConcurrency }, 'starting workers')
      return runCluster({ workers: config.webConcurrency, env: ctx.env, log })
    }
    return serveOne(config)
  },
}

/** One server process (alone, or one cluster worker sharing the port). */
async function serveOne(config: Config): Promise<number> {
  // Loaded here, not at the top: a cluster primary and the other commands never
  // load the HTTP layer (Fastify, the schemas, Swagger UI): ~10 MB less RSS each.
  const { buildApp } = await import('../app.js')
  const app = await buildApp(config)

  // close() stops accepting, lets in-flight requests finish, then closes the database.
  const closed = new Promise<number>((resolve) => {
    let closing = false
    const shutdown = (signal: string) => {
      if (closing) return
      closing = true
      app.log.info({ signal }, 'shutting down: draining in-flight requests')
      app.close().then(
        () => resolve(0),
        () => resolve(1),
      )
    }
    process.once('SIGTERM', () => shutdown('SIGTERM'))
    process.once('SIGINT', () => shutdown('SIGINT'))
  })

  const address = await app.listen({ host: config.host, port: config.port })
  await serveMetricsPort(config, app)
  app.log.info(`Keygate listening on ${address} (public URL ${config.publicUrl}, docs at /docs)`)
  return closed
}
