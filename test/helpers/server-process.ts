import { type ChildProcess, spawn } from 'node:child_process'
import { request } from 'node:http'
import { fileURLToPath } from 'node:url'
import { TEST_SECRET } from './config.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** One parsed JSON log line of a server process. */
export type LogLine = { msg?: string; pid?: number; reqId?: string; [key: string]: unknown }

export interface ServerProcess {
  /** http://127.0.0.1:PORT of the first listening worker */
  url: string
  pid: number
  lines: LogLine[]
  /** resolves to the first log line matching `test`, or rejects after timeoutMs */
  waitFor(test: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>
  /** sends `signal`, waits for the exit (SIGKILLs the process group after timeoutMs) */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>
}

const started = new Set<ServerProcess>()

/**
 * Starts `keygate serve` as a real process on a random port: from src/ through tsx
 * (no build needed), or `nodeArgs` such as a built bundle and its node flags.
 * Waits for `workers` "Server listening" lines. Call stopAllServers() in afterAll.
 */
export async function startServer(
  env: Record<string, string>,
  options: { workers?: number; timeoutMs?: number; nodeArgs?: string[] } = {},
): Promise<ServerProcess> {
  const nodeArgs = options.nodeArgs ?? ['--import', 'tsx', 'src/main.ts']
  const child = spawn(process.execPath, [...nodeArgs, 'serve'], {
    cwd: ROOT,
    // Own process group, so a SIGKILL fallback also reaches cluster workers.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      HOST: '127.0.0.1',
      PORT: '0',
      SECRET_KEY: TEST_SECRET,
      ARGON2_MEMORY_KIB: '1024',
      ARGON2_TIME_COST: '1',
      LOG_LEVEL: 'info',
      ...env,
    },
  })
  const server = track(child)
  started.add(server)
  const workers = options.workers ?? 1
  const timeoutMs = options.timeoutMs ?? 60_000
  try {
    const count = () => server.lines.filter(isListening).length
    await server.waitFor(() => count() >= workers, timeoutMs)
    const first = server.lines.find(isListening)
    server.url = String(first?.msg).replace('Server listening at ', '')
    return server
  } catch (err) {
    await server.stop('SIGKILL')
    throw err
  }
}

const isListening = (l: LogLine) =>
  typeof l.msg === 'string' && l.msg.startsWith('Server listening')

function track(child: ChildProcess): ServerProcess {
  const lines: LogLine[] = []
  const waiters = new Set<(line: LogLine) => void>()
  let stderr = ''
  let buffered = ''
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk
    const parts = buffered.split('\n')
    buffered = parts.pop() ?? ''
    for (const raw of parts) {
      if (raw.trim() === '') continue
      let line: LogLine
      try {
        line = JSON.parse(raw)
      } catch {
        line = { msg: raw }
      }
      lines.push(line)
      for (const w of waiters) w(line)
    }
  })
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)))
  let exitCode: number | null | undefined
  void exited.then((c) => {
    exitCode = c
  })

  const server: ServerProcess = {
    url: '',
    pid: child.pid ?? 0,
    lines,
    waitFor(test, timeoutMs = 30_000) {
      const seen = lines.find(test)
      if (seen) return Promise.resolve(seen)
      return new Promise((resolve, reject) => {
        const done = (line: LogLine) => {
          if (!test(line)) return
          cleanup()
          resolve(line)
        }
        const timer = setTimeout(() => {
          cleanup()
          reject(new Error(`no matching log line within ${timeoutMs} ms; stderr: ${stderr}`))
        }, timeoutMs)
        const failed = (code: number | null) => {
          cleanup()
          reject(new Error(`server exited (${code}) before the log line; stderr: ${stderr}`))
        }
        const cleanup = () => {
          clearTimeout(timer)
          waiters.delete(done)
          child.off('exit', failed)
        }
        waiters.add(done)
        child.once('exit', failed)
      })
    },
    async stop(signal = 'SIGTERM', timeoutMs = 15_000) {
      started.delete(server)
      if (exitCode !== undefined) return exitCode
      child.kill(signal)
      const timer = setTimeout(() => killGroup(child), timeoutMs)
      const code = await exited
      clearTimeout(timer)
      killGroup(child) // leftovers (workers) of a primary that did not drain them
      return code
    },
  }
  return server
}

function killGroup(child: ChildProcess) {
  try {
    if (child.pid) process.kill(-child.pid, 'SIGKILL')
  } catch {
    // already gone
  }
}

/** Stops every server this file started that is still running (use in afterAll). */
export async function stopAllServers(): Promise<void> {
  await Promise.all([...started].map((s) => s.stop('SIGTERM', 10_000)))
}

export interface HttpResult {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: any
}

/**
 * One HTTP request on its own connection (no keep-alive), so the kernel spreads
 * requests across cluster workers. JSON bodies in and out; bounded by timeoutMs.
 */
export function http(
  baseUrl: string,
  method: string,
  path: string,
  options: { json?: unknown; form?: Record<string, string>; headers?: Record<string, string> } = {},
  timeoutMs = 15_000,
): Promise<HttpResult> {
  const headers: Record<string, string> = { ...options.headers }
  let payload: string | undefined
  if (options.json !== undefined) {
    payload = JSON.stringify(options.json)
    headers['content-type'] = 'application/json'
  } else if (options.form) {
    payload = new URLSearchParams(options.form).toString()
    headers['content-type'] = 'application/x-www-form-urlencoded'
  }
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, baseUrl), { method, headers, agent: false }, (res) => {
      let text = ''
      res.setEncoding('utf8').on('data', (c: string) => {
        text += c
      })
      res.on('end', () => {
        let body: unknown = text
        try {
          body = text === '' ? undefined : JSON.parse(text)
        } catch {
          // not JSON: keep the text
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body })
      })
    })
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path}: timed out`)))
    req.on('error', reject)
    req.end(payload)
  })
}
