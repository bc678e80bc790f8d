import type { Config } from '../config.js'
import type { Output } from './log-output.js'

/** What a command gets: its own arguments, the environment, and the streams to talk on. */
export interface CommandContext {
  args: string[]
  env: NodeJS.ProcessEnv
  stdin: NodeJS.ReadableStream & { isTTY?: boolean }
  stdout: Output
  stderr: Output
  /** loadConfig(env), with a clear one-line error for a bad value */
  config(): Config
}

export interface Command {
  summary: string
  usage: string
  /** resolves to the exit code */
  run(ctx: CommandContext): Promise<number>
}

/** Writes `value` as one line of JSON: the `--json` form of a command's result. */
export function printJson(out: NodeJS.WritableStream, value: unknown): void {
  out.write(`${JSON.stringify(value)}\n`)
}
