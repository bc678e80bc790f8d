import { type Command, printJson } from './command.js'
import { migrateDatabase } from './compose.js'

export const migrateCommand: Command = {
  summary: 'Apply pending database migrations and exit',
  usage:
    'keygate migrate [--json]\n\n  --json   print {"applied": [...]} instead of one line per migration',
  async run(ctx) {
    const applied = await migrateDatabase(ctx.config())
    if (ctx.args.includes('--json')) printJson(ctx.stdout, { applied })
    else if (applied.length === 0) ctx.stdout.write('database is up to date\n')
    else for (const name of applied) ctx.stdout.write(`applied: ${name}\n`)
    return 0
  },
}
