import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** One sample line of a Prometheus text exposition. */
export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g

/** Parses the exposition (text format 0.0.4); throws on a line it cannot read. */
export function parseExposition(text: string): Sample[] {
  return text.split('\n').flatMap((line) => {
    if (line === '' || line.startsWith('#')) return []
    const m = LINE.exec(line)
    if (!m) throw new Error(`not an exposition line: ${line}`)
    const labels: Record<string, string> = {}
    for (const [, key, value] of (m[2] ?? '').matchAll(LABEL)) {
      labels[key!] = value!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\')
    }
    return [{ name: m[1]!, labels, value: Number(m[3]) }]
  })
}

/** The value of the sample with this name whose labels include `labels` (sum if several). */
export function sampleValue(samples: Sample[], name: string, labels: Record<string, string> = {}) {
  const matching = samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  )
  return matching.length === 0 ? undefined : matching.reduce((sum, s) => sum + s.value, 0)
}

/** Whether promtool (Debian's `prometheus` package) is installed. */
export const hasPromtool = spawnSync('promtool', ['--version']).status === 0

/** `promtool check metrics` on the exposition: its complaints, '' when it has none. */
export function promtoolCheck(exposition: string): { status: number | null; output: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: exposition, encoding: 'utf8' })
  return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() }
}

/** Whether the Prometheus server (Debian's `prometheus` package) is installed. */
export const hasPrometheus = spawnSync('prometheus', ['--version']).status === 0

export interface ScrapeTarget {
  job: string
  /** host:port */
  target: string
  bearer?: string
}

export interface PrometheusServer {
  /** the value of an instant PromQL query, one entry per series (labels → value) */
  query(promql: string): Promise<{ metric: Record<string, string>; value: number }[]>
  stop(): Promise<void>
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** A real Prometheus scraping `targets` every second, with its data in a temp dir. */
export async function startPrometheus(targets: ScrapeTarget[]): Promise<PrometheusServer> {
  const dir = mkdtempSync(join(tmpdir(), 'keygate-prom-'))
  const jobs = targets.map((t) => ({
    job_name: t.job,
    scrape_interval: '1s',
    scrape_timeout: '900ms',
    static_configs: [{ targets: [t.target] }],
    ...(t.bearer && { authorization: { type: 'Bearer', credentials: t.bearer } }),
  }))
  // JSON is YAML, so no YAML library is needed.
  writeFileSync(join(dir, 'prometheus.yml'), JSON.stringify({ scrape_configs: jobs }))
  const port = await freePort()
  const child = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: 'ignore' },
  )
  const exited = new Promise((resolve) => child.once('exit', resolve))
  const base = `http://127.0.0.1:${port}`
  return {
    async query(promql) {
      const res = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(promql)}`)
      const body = (await res.json()) as {
        data?: { result: { metric: Record<string, string>; value: [number, string] }[] }
      }
      return (body.data?.result ?? []).map((r) => ({ metric: r.metric, value: Number(r.value[1]) }))
    },
    async stop() {
      child.kill('SIGTERM')
      await exited
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** `promtool check rules` on a rules file's text. */
export function promtoolCheckRules(rules: string): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'keygate-rules-'))
  try {
    writeFileSync(join(dir, 'rules.yml'), rules)
    const r = spawnSync('promtool', ['check', 'rules', join(dir, 'rules.yml')], {
      encoding: 'utf8',
    })
    return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
