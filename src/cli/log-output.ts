import { createRequire } from 'node:module'
import type { Config } from '../config.js'

export type Output = NodeJS.WritableStream & { isTTY?: boolean }

/** Where log lines go: as they are (JSON), or through pino-pretty for a person. */
export interface LogSink {
  write(line: string): void
}

/**
 * JSON lines for machines (files, pipes, log shippers); pretty lines on a
 * terminal, or when LOG_FORMAT=pretty. pino-pretty is loaded only then, in
 * process and synchronously, so no worker thread or transport file is needed
 * (the bundle in dist/ could not resolve one).
 */
export function logSink(config: Pick<Config, 'logFormat'>, out: Output): LogSink | undefined {
  const pretty =
    config.logFormat === 'pretty' || (config.logFormat === 'auto' && out.isTTY === true)
  // JSON: pino writes to stdout itself (sonic-boom), the fast path of a loaded server.
  if (!pretty) return undefined
  const { prettyFactory } = createRequire(import.meta.url)('pino-pretty') as {
    prettyFactory: (options: object) => (line: string) => string
  }
  const format = prettyFactory({
    colorize: out.isTTY === true,
    translateTime: 'SYS:HH:MM:ss',
    ignore: 'pid,hostname',
  })
  return { write: (line) => void out.write(format(line)) }
}
