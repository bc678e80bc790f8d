// `npm run bench`: Keygate (built dist/, SQLite, production mode), a bare node:http
// baseline and a Fastify + SQLite reference (reference.js) under the same autocannon
// load, in one run. See README.md.
//   node bench/run.js [--duration 10] [--connections 50] [--runs 3] [--workers 1] [--log-level info]
// Each option can also be given as BENCH_DURATION, BENCH_CONNECTIONS, BENCH_RUNS,
// BENCH_WORKERS, BENCH_LOG_LEVEL.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { argonCeiling } from './lib/argon.js'
import { load, requests, runScenarios } from './lib/load.js'
import { memory, ROOT, startBaseline, startKeygate, startReference } from './lib/proc.js'
import { print, summarize, targets } from './lib/report.js'
import { seed } from './lib/seed.js'

const env = process.env
const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: env.BENCH_DURATION ?? '10' },
    connections: { type: 'string', default: env.BENCH_CONNECTIONS ?? '50' },
    runs: { type: 'string', default: env.BENCH_RUNS ?? '3' },
    workers: { type: 'string', default: env.BENCH_WORKERS ?? '1' },
    'log-level': { type: 'string', default: env.BENCH_LOG_LEVEL ?? 'info' },
    'ready-repeats': { type: 'string', default: '3' },
    // a comma-separated subset of scenarios (baseline_me always runs), for quick comparisons
    only: { type: 'string', default: env.BENCH_ONLY },
  },
})
const opts = {
  duration: Number(values.duration),
  connections: Number(values.connections),
  runs: Number(values.runs),
  workers: Number(values.workers),
  logLevel: values['log-level'],
  readyRepeats: Number(values['ready-repeats']),
  only: values.only?.split(','),
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

async function oneRun(i) {
  const dir = mkdtempSync(join(tmpdir(), 'keygate-bench-'))
  const dbPath = join(dir, 'keygate.db')
  const kgOpts = { dbPath, workers: opts.workers, env: { LOG_LEVEL: opts.logLevel } }
  try {
    // A fresh database, migrated and seeded through the API.
    const first = await startKeygate(kgOpts)
    const seeded = await seed(first.url)
    await first.stop()

    // Ready time on an existing database; the last start is the one under test.
    const readyMs = []
    let keygate
    for (let r = 0; r < opts.readyRepeats; r++) {
      keygate?.stop && (await keygate.stop())
      keygate = await startKeygate(kgOpts)
      readyMs.push(keygate.readyMs)
    }
    await sleep(1000)
    const idleRssMb = memory(keygate.child.pid).rssMb
    const baseline = await startBaseline()
    const reference = await startReference({ dbPath })
    try {
      // Warm both up (JIT, SQLite page cache) before measuring.
      const req = requests(seeded)
      const warm = { connections: opts.connections, duration: 2 }
      await load({ url: baseline.url, ...req.me, ...warm })
      await load({ url: reference.url, ...req.me, ...warm })
      await load({ url: keygate.url, ...req.me, ...warm })
      await load({ url: keygate.url, ...req.posts_list, ...warm })

      let peakRssMb = 0
      const sample = () => {
        const t = setInterval(() => {
          peakRssMb = Math.max(peakRssMb, memory(keygate.child.pid).rssMb)
        }, 50)
        return () => {
          clearInterval(t)
          const m = memory(keygate.child.pid)
          peakRssMb = Math.max(peakRssMb, m.rssMb, m.hwmMb)
          return peakRssMb
        }
      }
      const scenarios = await runScenarios({
        keygate,
        baseline,
        reference,
        seed: seeded,
        connections: opts.connections,
        duration: opts.duration,
        sample,
        only: opts.only,
      })
      console.error(`run ${i + 1}/${opts.runs} done`)
      return { readyMs, idleRssMb, peakRssMb, scenarios }
    } finally {
      await reference.stop()
      await baseline.stop()
      await keygate.stop()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const argon = await argonCeiling()
const runs = []
for (let i = 0; i < opts.runs; i++) runs.push(await oneRun(i))
const summary = summarize(runs, argon)
console.log(print(summary, opts))

const resultsDir = join(ROOT, 'bench', 'results')
mkdirSync(resultsDir, { recursive: true })
const stamp = new Date().toISOString().replace(/[:.]/g, '-')
const file = join(resultsDir, `${stamp}${opts.workers > 1 ? `-w${opts.workers}` : ''}.json`)
const passed = Object.fromEntries(targets(summary).map(([label, ok, v]) => [label, { ok, v }]))
writeFileSync(
  file,
  `${JSON.stringify({ options: opts, summary, targets: passed, runs }, null, 2)}\n`,
)
console.log(`\nwrote ${file}`)
