import { existsSync } from 'node:fs'
import pkg from '../../package.json' with { type: 'json' }
import { ConfigError, loadConfig } from '../config.js'
import { clientsCommand } from './clients.js'
import type { Command, CommandContext } from './command.js'
import { explainDatabaseError } from './compose.js'
import { createUserCommand } from './create-user.js'
import { importUsersCommand } from './import-users.js'
import { keysCommand } from './keys.js'
import { migrateCommand } from './migrate.js'
import { resetLinkCommand } from './reset-link.js'
import { serveCommand } from './serve.js'

export type { Command, CommandContext } from './command.js'

/** Keygate's version, from package.json (bundled into dist/ at build time). */
export const VERSION: string = pkg.version

/** Every command, by name. Each lives in its own file. */
export const COMMANDS: Record<string, Command> = {
  serve: serveCommand,
  migrate: migrateCommand,
  'create-user': createUserCommand,
  'import-users': importUsersCommand,
  'reset-link': resetLinkCommand,
  keys: keysCommand,
  clients: clientsCommand,
}

function help(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(14)} ${c.summary}`)
  return `Usage: keygate <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nOptions:\n  --version      print the version and exit\n  --help         this text\n\nRun "keygate <command> --help" for a command's options.\n`
}

/** Runs `keygate <argv…>`; resolves to the process exit code. */
export async function runCli(
  argv: string[],
  io: Pick<CommandContext, 'env' | 'stdin' | 'stdout' | 'stderr'>,
): Promise<number> {
  const [name, ...args] = argv
  if (name === '--version' || name === '-v' || name === 'version') {
    io.stdout.write(`keygate ${VERSION}\n`)
    return 0
  }
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(help())
    return name ? 0 : 1
  }
  const command = COMMANDS[name]
  if (!command) {
    io.stderr.write(`keygate: unknown command "${name}"\n\n${help()}`)
    return 2
  }
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout.write(`Usage: ${command.usage}\n\n${command.summary}\n`)
    return 0
  }
  try {
    return await command.run({ ...io, args, config: () => loadConfig(io.env) })
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr.write(`keygate: ${err.message}\n`)
      return 1
    }
    const database = tryExplain(io.env, err)
    const message = database ?? (err instanceof Error ? err.message : String(err))
    io.stderr.write(`keygate ${name}: ${message}\n`)
    return 1
  }
}

function tryExplain(env: NodeJS.ProcessEnv, err: unknown): string | undefined {
  try {
    return explainDatabaseError(loadConfig(env), err)
  } catch {
    return undefined
  }
}

/** Loads `.env` from the working directory when there is one (SPEC §2). */
export function loadDotEnv(): void {
  if (existsSync('.env')) process.loadEnvFile('.env')
}
