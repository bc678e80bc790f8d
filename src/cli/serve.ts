import { buildApp } from '../app.js'
import { withDevSecret } from '../services/keys.js'
import type { Command } from './index.js'

export const serveCommand: Command = {
  summary: 'Start the HTTP server (the default of `npm start`)',
  usage: 'keygate serve',
  async run(ctx) {
    const config = withDevSecret(ctx.config())
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

    await app.listen({ host: config.host, port: config.port })
    app.log.info(`Keygate listening on ${config.publicUrl} (docs at ${config.publicUrl}/docs)`)
    return closed
  },
}
