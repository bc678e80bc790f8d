// Medians over runs, the printed table, and the targets as PASS/FAIL.
export const SCENARIOS = [
  'baseline_me',
  'reference_me',
  'me',
  'login',
  'posts_list',
  'post_create',
  'me_under_login',
]

export function median(xs) {
  const s = xs.filter((x) => typeof x === 'number' && !Number.isNaN(x)).sort((a, b) => a - b)
  if (s.length === 0) return Number.NaN
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/** Per-metric medians across runs; ratios are taken within each run, then their median. */
export function summarize(runs, argon) {
  const scen = {}
  for (const name of SCENARIOS) {
    if (!runs[0].scenarios[name]) continue
    const pick = (k) => median(runs.map((r) => r.scenarios[name][k]))
    scen[name] = {
      rps: pick('rps'),
      p50: pick('p50'),
      p99: pick('p99'),
      cpuUs: pick('cpuUs'),
      non2xx: Math.max(...runs.map((r) => r.scenarios[name].non2xx)),
      errors: Math.max(...runs.map((r) => r.scenarios[name].errors)),
    }
  }
  if (scen.me_under_login) {
    scen.me_under_login.login_rps = median(runs.map((r) => r.scenarios.me_under_login.login_rps))
  }
  // A ratio whose scenarios did not run is NaN and shows as "n/a".
  const ratio = (f) => median(runs.map((r) => f(r.scenarios)))
  return {
    scenarios: scen,
    argon,
    me_vs_baseline: ratio((s) => s.me?.rps / s.baseline_me.rps),
    me_cpu_vs_baseline: ratio((s) => s.baseline_me.cpuUs / s.me?.cpuUs),
    me_vs_reference: ratio((s) => s.me?.rps / s.reference_me?.rps),
    me_cpu_vs_reference: ratio((s) => s.reference_me?.cpuUs / s.me?.cpuUs),
    login_vs_ceiling: ratio((s) => s.login?.rps / argon.ceilingRps),
    under_login_p99_factor: ratio((s) => s.me_under_login?.p99 / Math.max(s.me?.p99, 1)),
    idle_rss_mb: median(runs.map((r) => r.idleRssMb)),
    peak_rss_mb: median(runs.map((r) => r.peakRssMb)),
    ready_ms: median(runs.flatMap((r) => r.readyMs)),
  }
}

export function targets(s) {
  const bad = Object.values(s.scenarios).reduce((n, x) => n + x.non2xx + x.errors, 0)
  return [
    // Issue 19: against bare node:http, and against what a Fastify app reading the session per request does.
    ['me ≥ 0.5 × baseline', s.me_vs_baseline >= 0.5, `${s.me_vs_baseline.toFixed(2)}×`],
    ['me ≥ 1.0 × reference', s.me_vs_reference >= 1, `${s.me_vs_reference.toFixed(2)}×`],
    [
      'login ≥ 0.85 × Argon2id ceiling',
      s.login_vs_ceiling >= 0.85,
      `${s.login_vs_ceiling.toFixed(2)}×`,
    ],
    [
      'me_under_login p99 ≤ 3 × me p99',
      s.under_login_p99_factor <= 3,
      `${s.under_login_p99_factor.toFixed(2)}×`,
    ],
    ['no non-2xx / errors', bad === 0, String(bad)],
    ['idle RSS ≤ 90 MB', s.idle_rss_mb <= 90, `${s.idle_rss_mb.toFixed(1)} MB`],
    ['peak RSS ≤ 250 MB', s.peak_rss_mb <= 250, `${s.peak_rss_mb.toFixed(1)} MB`],
    ['ready ≤ 700 ms', s.ready_ms <= 700, `${s.ready_ms.toFixed(0)} ms`],
  ]
}

export function print(s, opts) {
  const out = []
  out.push(
    `Keygate bench: ${opts.runs} run(s) × ${opts.duration}s per scenario, ${opts.connections} connections, workers=${opts.workers}, LOG_LEVEL=${opts.logLevel}`,
  )
  out.push(
    `Argon2id verify (m=19456,t=2,p=1): ${s.argon.verifyMs.toFixed(1)} ms → ceiling ${s.argon.cores} cores ÷ verify = ${s.argon.ceilingRps.toFixed(1)} logins/s`,
  )
  out.push('')
  out.push('scenario          req/s     p50 ms   p99 ms   non-2xx  errors   server CPU µs/req')
  for (const [name, x] of Object.entries(s.scenarios)) {
    out.push(
      `${name.padEnd(16)} ${x.rps.toFixed(0).padStart(7)} ${String(x.p50).padStart(9)} ${String(x.p99).padStart(8)} ${String(x.non2xx).padStart(9)} ${String(x.errors).padStart(7)} ${Number.isNaN(x.cpuUs) ? '' : x.cpuUs.toFixed(0).padStart(10)}`,
    )
  }
  if (s.scenarios.me_under_login) {
    out.push(
      `  (logins during me_under_login: ${s.scenarios.me_under_login.login_rps.toFixed(1)}/s)`,
    )
  }
  out.push(
    `idle RSS ${s.idle_rss_mb.toFixed(1)} MB, peak RSS ${s.peak_rss_mb.toFixed(1)} MB, ready ${s.ready_ms.toFixed(0)} ms (median)`,
  )
  out.push(
    `me vs baseline: ${s.me_vs_baseline.toFixed(2)}× by req/s, ${s.me_cpu_vs_baseline.toFixed(2)}× by CPU per request (baseline CPU ÷ Keygate CPU)`,
  )
  out.push(
    `me vs reference (Fastify + SQLite read): ${s.me_vs_reference.toFixed(2)}× by req/s, ${s.me_cpu_vs_reference.toFixed(2)}× by CPU per request`,
  )
  out.push('')
  for (const [label, ok, value] of targets(s)) {
    const verdict = value.startsWith('NaN') ? 'n/a ' : ok ? 'PASS' : 'FAIL'
    out.push(`${verdict}  ${label.padEnd(34)} ${value}`)
  }
  return out.join('\n')
}
