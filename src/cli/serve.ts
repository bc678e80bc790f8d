import cluster from 'node:cluster'
import type { Config } from '../config.js'
import { startupSummary, startupWarnings } from '../config-report.js'
import { withDevSecret } from '../services/keys/signing-keys.js'
import { createLineLogger, prepareOnce, runCluster } from './cluster.js'
import type { Command, CommandContext } from './command.js'
import { unappliedMigrations } from './compose.js'
import { type LogSink, logSink } from './log-output.js'
import { serveMetricsPort, startPrimaryMetrics } from './metrics-port.js'

export const serveCommand: Command = {
  summary: 'Start the HTTP server (the default of `npm start`); WEB_CONCURRENCY=N runs N workers',
  usage: 'keygate serve',
  async run(ctx) {
    // In a cluster the primary runs first, so the dev secret file is created once
    // and the workers read it instead of racing to write it.
    const config = withDevSecret(ctx.config())
    const sink = logSink(config, ctx.stdout)
    if (config.webConcurrency > 1 && cluster.isPrimary) {
      const log = createLineLogger(config.logLevel, sink ?? ctx.stdout)
      for (const warning of startupWarnings(config, ctx.env)) log.warn({}, warning)
      await prepareOnce(config, log)
      const pending = await unappliedMigrations(config).catch(() => [])
      if (pending.length > 0) log.warn({ pending }, notMigrated(pending))
      await startPrimaryMetrics(config, log)
      log.info({ workers: config.webConcurrency }, 'starting workers')
      return runCluster({
        workers: config.webConcurrency,
        env: ctx.env,
        log,
        onListening: (port) => {
          const summary = startupSummary({ ...config, port }, ctx.env)
          // JSON logs get the fields; a terminal gets the readable block alone.
          if (sink) log.info({}, summary.text)
          else log.info(summary.fields, summary.msg)
        },
      })
    }
    return serveOne(config, ctx, sink)
  },
}

/** One server process (alone, or one cluster worker sharing the port). */
async function serveOne(
  config: Config,
  ctx: CommandContext,
  sink: LogSink | undefined,
): Promise<number> {
  // Loaded here, not at the top: a cluster primary and the other commands never
  // load the HTTP layer (Fastify, the schemas, Swagger UI), which keeps their memory low (docs/decisions/node-flags-and-bundle.md).
  const { buildApp } = await import('../app.js')
  const app = await buildApp(config, sink ? { logStream: sink } : {})
  // A cluster's primary has said all this once already.
  const alone = cluster.isPrimary
  if (alone) {
    for (const warning of startupWarnings(config, ctx.env)) app.log.warn(warning)
    // An unreachable database is reported by /readyz below, not here.
    const pending = await unappliedMigrations(config).catch(() => [])
    if (pending.length > 0) app.log.warn({ pending }, notMigrated(pending))
  }

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
  // SIGHUP re-reads the key file at once (it is also re-read within a second of a change).
  const { reloadSigningKeys } = await import('../app.js')
  process.on('SIGHUP', () => {
    reloadSigningKeys(app).then(
      () => app.log.info('signing keys reloaded'),
      (err: unknown) => app.log.error({ err }, 'signing keys reload failed'),
    )
  })

  // A database or Redis that does not answer now would only show as 503s: ask
  // /readyz once, which logs each failed dependency with its host and port.
  const ready = await app.inject({ method: 'GET', url: '/readyz' })
  if (ready.statusCode !== 200) {
    const failed: string[] = ready.json().failed ?? []
    app.log.warn(
      `not ready at start-up: ${failed.join(' and ')} unreachable; answering 503 until then`,
    )
  }

  const address = await app.listen({ host: config.host, port: config.port })
  await serveMetricsPort(config, app)
  if (alone) {
    // PORT=0 picks a free port: the summary names the one actually bound.
    const port = Number(new URL(address).port)
    const summary = startupSummary({ ...config, port }, ctx.env)
    if (sink) app.log.info(summary.text)
    else app.log.info(summary.fields, summary.msg)
  }
  return closed
}

const notMigrated = (pending: string[]) =>
  `MIGRATE_ON_START=off and ${pending.length} migration(s) are not applied: run \`keygate migrate\`; until then requests that need them fail`
