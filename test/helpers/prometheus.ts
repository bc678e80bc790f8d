import { spawnSync } from 'node:child_process'

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
