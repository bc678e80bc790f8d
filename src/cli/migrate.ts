import { createDatabase } from '../db/database.js'
import { migrateToLatest } from '../db/migrate.js'
import type { Command } from './index.js'

export const migrateCommand: Command = {
  summary: 'Apply pending database migrations and exit',
  usage: 'keygate migrate',
  async run(ctx) {
    const config = ctx.config()
    const database = createDatabase(config.databaseUrl, { poolSize: 1 })
    try {
      const results = await migrateToLatest(database.db)
      for (const r of results)
        ctx.stdout.write(`${r.status === 'Success' ? 'applied' : r.status}: ${r.migrationName}\n`)
      if (results.length === 0) ctx.stdout.write('database is up to date\n')
      return 0
    } finally {
      await database.close()
    }
  },
}
