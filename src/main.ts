import { existsSync } from 'node:fs'
import { buildApp } from './app.js'
import { type Config, ConfigError, loadConfig } from './config.js'
import { withDevSecret } from './services/keys.js'

/** The only place that touches the process: env in, a listening server out, signals handled. */
export async function serve(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let config: Config
  try {
    config = withDevSecret(loadConfig(env))
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`keygate: ${err.message}`)
      process.exit(1)
    }
    throw err
  }
  const app = await buildApp(config)

  let closing = false
  const shutdown = async (signal: string) => {
    if (closing) return
    closing = true
    app.log.info({ signal }, 'shutting down: draining in-flight requests')
    // close() stops accepting, waits for in-flight requests, then runs onClose (database).
    await app.close()
    process.exit(0)
  }
  process.once('SIGTERM', () => void shutdown('SIGTERM'))
  process.once('SIGINT', () => void shutdown('SIGINT'))

  await app.listen({ host: config.host, port: config.port })
  app.log.info(`Keygate listening on ${config.publicUrl} (docs at ${config.publicUrl}/docs)`)
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (existsSync('.env')) process.loadEnvFile('.env')
  serve().catch((err) => {
    console.error(`keygate: failed to start: ${err instanceof Error ? err.message : String(err)}`)
    process.exit(1)
  })
}
