// Load generation with autocannon (as a library), and the bench scenarios.
import autocannon from 'autocannon'
import { cpuSeconds } from './proc.js'

/** One autocannon run, reduced to the figures the report needs. */
export async function load({
  url,
  path,
  method = 'GET',
  headers = {},
  body,
  connections,
  duration,
  pid,
}) {
  const cpu0 = pid && cpuSeconds(pid)
  const r = await autocannon({
    url: url + path,
    method,
    headers,
    body,
    connections,
    duration,
    timeout: 10,
  })
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    total: r.requests.total,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    // Server CPU time per request: steadier than req/s on a machine shared with other work.
    cpuUs: pid ? ((cpuSeconds(pid) - cpu0) * 1e6) / Math.max(r.requests.total, 1) : undefined,
  }
}

const form = (fields) => new URLSearchParams(fields).toString()

/** The requests each scenario repeats, given the seeded user and its token. */
export function requests(seed) {
  const bearer = { authorization: `Bearer ${seed.token}` }
  return {
    me: { path: '/api/v1/users/me', headers: bearer },
    login: {
      path: '/api/v1/auth/token',
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form({ grant_type: 'password', username: seed.email, password: seed.password }),
    },
    posts_list: { path: '/api/v1/posts' },
    post_create: {
      path: '/api/v1/posts',
      method: 'POST',
      headers: { ...bearer, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Benchmark post', content: 'Written under load.' }),
    },
  }
}

/** Runs the scenarios against Keygate and the baseline in one pass; `sample` polls RSS. */
export async function runScenarios({
  keygate,
  baseline,
  reference,
  seed,
  connections,
  duration,
  sample,
  only,
}) {
  const req = requests(seed)
  const opts = { connections, duration, pid: keygate.child.pid }
  const want = (name) => !only || only.includes(name)
  const out = {}
  out.baseline_me = await load({ url: baseline.url, ...req.me, ...opts, pid: baseline.child.pid })
  out.reference_me = await load({
    url: reference.url,
    ...req.me,
    ...opts,
    pid: reference.child.pid,
  })
  if (want('me')) out.me = await load({ url: keygate.url, ...req.me, ...opts })
  if (want('posts_list'))
    out.posts_list = await load({ url: keygate.url, ...req.posts_list, ...opts })
  if (want('post_create'))
    out.post_create = await load({ url: keygate.url, ...req.post_create, ...opts })
  if (want('login')) {
    const stopSampling = sample()
    out.login = await load({ url: keygate.url, ...req.login, ...opts })
    out.login.peak = stopSampling()
  }
  if (want('me_under_login')) {
    // Both at once: how much do logins (Argon2id on the thread pool) slow plain reads?
    const [me, login] = await Promise.all([
      load({ url: keygate.url, ...req.me, ...opts, pid: undefined }),
      load({ url: keygate.url, ...req.login, ...opts, pid: undefined }),
    ])
    out.me_under_login = { ...me, login_rps: login.rps }
    out.me_under_login.non2xx += login.non2xx
    out.me_under_login.errors += login.errors
  }
  return out
}
