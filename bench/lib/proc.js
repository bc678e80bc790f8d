// Starting and stopping the servers under test, and reading their memory from /proc.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const SECRET_KEY = 'bench-secret-key-0123456789abcdef-0123456789'

/** The node flags `npm start` runs Keygate with (package.json), so the bench measures the same process. */
export const START_FLAGS = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
  .scripts.start.split(' ')
  .filter((arg) => arg.startsWith('--'))

/** A port that was free a moment ago (the server binds it right after). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.unref()
    s.on('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

/** Polls GET url until it answers 200; resolves to the ms since `since`. */
export async function waitFor200(url, since, timeoutMs = 20_000) {
  while (performance.now() - since < timeoutMs) {
    try {
      const res = await fetch(url)
      await res.arrayBuffer()
      if (res.status === 200) return performance.now() - since
    } catch {}
    await new Promise((r) => setTimeout(r, 5))
  }
  throw new Error(`no 200 from ${url} within ${timeoutMs} ms`)
}

/**
 * Starts Keygate from dist/ as `npm start` would: its node flags, NODE_ENV=production,
 * a real SECRET_KEY, default log level (info) unless told, logs to /dev/null.
 */
export async function startKeygate({ dbPath, workers = 1, env = {}, nodeArgs = START_FLAGS }) {
  const port = await freePort()
  const since = performance.now()
  const child = spawn(process.execPath, [...nodeArgs, join(ROOT, 'dist', 'main.js')], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      SECRET_KEY,
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: `sqlite:${dbPath}`,
      RATE_LIMIT: 'off', // SPEC §4: for load tests only
      // Fixed, so tokens issued before a restart (on another port) keep their `iss`.
      PUBLIC_URL: 'http://keygate.bench.test',
      WEB_CONCURRENCY: String(workers),
      ...env,
    },
  })
  const url = `http://127.0.0.1:${port}`
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)))
  const readyMs = await Promise.race([
    waitFor200(`${url}/healthz`, since),
    exited.then((code) => {
      throw new Error(`keygate exited with ${code} before answering /healthz`)
    }),
  ])
  return { child, url, port, readyMs, stop: () => stop(child, exited) }
}

export async function startBaseline() {
  const child = spawn(process.execPath, [join(ROOT, 'bench', 'baseline.js')], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { PATH: process.env.PATH, NODE_ENV: 'production', SECRET_KEY },
  })
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)))
  const line = await new Promise((resolve, reject) => {
    child.stdout.once('data', (d) => resolve(String(d)))
    child.once('exit', () => reject(new Error('baseline exited')))
  })
  const { port } = JSON.parse(line)
  return { child, url: `http://127.0.0.1:${port}`, stop: () => stop(child, exited) }
}

/** The Fastify + SQLite reference (reference.js) on the bench database. */
export async function startReference({ dbPath }) {
  const port = await freePort()
  const since = performance.now()
  const child = spawn(process.execPath, [join(ROOT, 'bench', 'reference.js')], {
    cwd: ROOT,
    // Its log lines go where Keygate's do: nowhere.
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      SECRET_KEY,
      DB_PATH: dbPath,
      PORT: String(port),
    },
  })
  const url = `http://127.0.0.1:${port}`
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)))
  await Promise.race([
    waitFor200(`${url}/healthz`, since),
    exited.then((code) => {
      throw new Error(`reference exited with ${code} before answering /healthz`)
    }),
  ])
  return { child, url, stop: () => stop(child, exited) }
}

async function stop(child, exited) {
  if (child.exitCode === null) child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
  await exited
  clearTimeout(timer)
}

function children(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean)
  } catch {
    return []
  }
}

function statusKb(pid, field) {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(
      readFileSync(`/proc/${pid}/status`, 'utf8'),
    )
    return m ? Number(m[1]) : 0
  } catch {
    return 0
  }
}

/** Current and peak resident memory (MB) of a process and its children (cluster workers). */
export function memory(pid) {
  const pids = [String(pid), ...children(pid)]
  const sum = (field) => pids.reduce((s, p) => s + statusKb(p, field), 0) / 1024
  return { rssMb: sum('VmRSS'), hwmMb: sum('VmHWM') }
}

/** CPU seconds (user + system) used so far by a process and its children. */
export function cpuSeconds(pid) {
  let ticks = 0
  for (const p of [String(pid), ...children(pid)]) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      ticks += Number(fields[11]) + Number(fields[12]) // utime, stime
    } catch {}
  }
  return ticks / 100 // USER_HZ is 100 on Linux
}
