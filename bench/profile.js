// Profiles Keygate under one scenario's load: node --cpu-prof, then a summary of
// where the CPU went (self time by function and by package).
//   node bench/profile.js [me|login|posts_list|post_create] [--duration 10] [--connections 50]
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { load, requests } from './lib/load.js'
import { START_FLAGS, startKeygate } from './lib/proc.js'
import { seed } from './lib/seed.js'

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    'log-level': { type: 'string', default: 'info' },
    top: { type: 'string', default: '25' },
  },
})
const scenario = positionals[0] ?? 'me'
const dir = mkdtempSync(join(tmpdir(), 'keygate-prof-'))
const profDir = join(dir, 'prof')
const kg = { dbPath: join(dir, 'keygate.db'), env: { LOG_LEVEL: values['log-level'] } }

const first = await startKeygate(kg)
const seeded = await seed(first.url)
await first.stop()
const keygate = await startKeygate({
  ...kg,
  nodeArgs: [...START_FLAGS, '--cpu-prof', `--cpu-prof-dir=${profDir}`],
})
const req = requests(seeded)[scenario]
const r = await load({
  url: keygate.url,
  ...req,
  connections: Number(values.connections),
  duration: Number(values.duration),
})
await keygate.stop()
console.log(
  `${scenario}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, non-2xx ${r.non2xx}`,
)

const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'))
const profile = JSON.parse(readFileSync(join(profDir, file), 'utf8'))
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const self = new Map()
for (let i = 0; i < profile.samples.length; i++) {
  const n = byId.get(profile.samples[i])
  self.set(n.id, (self.get(n.id) ?? 0) + (profile.timeDeltas[i] ?? 0))
}
const total = [...self.values()].reduce((a, b) => a + b, 0)
const parent = new Map()
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
const keyOf = (id) => {
  const { functionName, url, lineNumber } = byId.get(id).callFrame
  const where = url.replace(/^file:\/\//, '').replace(/.*\/node_modules\//, '')
  return `${functionName || '(anonymous)'}  ${where.split('/').slice(-2).join('/')}:${lineNumber + 1}`
}
// Inclusive time: a function counts every sample it was on the stack for, once.
const inclusive = new Map()
for (const [id, us] of self) {
  const seen = new Set()
  for (let at = id; at !== undefined; at = parent.get(at)) {
    const key = keyOf(at)
    if (seen.has(key)) continue
    seen.add(key)
    inclusive.set(key, (inclusive.get(key) ?? 0) + us)
  }
}
const fnTime = new Map()
const pkgTime = new Map()
for (const [id, us] of self) {
  const { functionName, url } = byId.get(id).callFrame
  const key = keyOf(id)
  fnTime.set(key, (fnTime.get(key) ?? 0) + us)
  const pkg = url.includes('/node_modules/')
    ? url
        .split('/node_modules/')
        .pop()
        .split('/')
        .slice(0, url.includes('/@') ? 2 : 1)
        .join('/')
    : url.includes('/dist/')
      ? `keygate ${url.split('/dist/').pop()}`
      : url.startsWith('node:')
        ? 'node core'
        : functionName.startsWith('(')
          ? functionName
          : 'native/other'
  pkgTime.set(pkg, (pkgTime.get(pkg) ?? 0) + us)
}
const show = (title, m, n) => {
  console.log(`\n${title}`)
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, n)) {
    console.log(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`)
  }
}
show('self time by package/file', pkgTime, Number(values.top))
show('self time by function', fnTime, Number(values.top))
show('total time (self and callees) by function', inclusive, Number(values.top) * 2)
rmSync(dir, { recursive: true, force: true })
