// `npm test`: type-check, build, lint (Biome and knip, as `npm run lint`), then the
// whole suite on SQLite and, when the services are reachable, again on PostgreSQL
// with the Redis suites enabled. In CI (CI=true) an unreachable PostgreSQL or Redis
// is a failure, not a skip.
// `npm run test:fast` (--fast), the inner loop: type-check, then the SQLite suite
// without the slow folders (real browsers, the built CLI, several instances).
import { spawnSync } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import net from 'node:net'

const ci = !['', '0', 'false'].includes(process.env.CI ?? '')
const fast = process.argv.includes('--fast')
const SLOW = ['test/e2e/**', 'test/cli/**', 'test/multi/**']
const pgUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

function reachable(url) {
  const { hostname, port } = new URL(url)
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port) }, () => {
      socket.destroy()
      resolve(true)
    })
    socket.setTimeout(1500, () => {
      socket.destroy()
      resolve(false)
    })
    socket.on('error', () => resolve(false))
  })
}

function run(label, cmd, args, env = {}) {
  console.log(`\n=== ${label}`)
  const merged = { ...process.env, ...env }
  // undefined unsets: a stale TEST_REDIS_URL must not reach suites when Redis is down.
  for (const [k, v] of Object.entries(merged)) if (v === undefined) delete merged[k]
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: merged })
  return r.status === 0
}

const totals = { passed: 0, failed: 0, skipped: 0 }
function vitest(label, env, extraArgs = []) {
  const out = `node_modules/.vitest-${label}.json`
  rmSync(out, { force: true })
  const ok = run(
    `tests (${label})`,
    'npx',
    [
      'vitest',
      'run',
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${out}`,
      ...extraArgs,
    ],
    env,
  )
  try {
    const r = JSON.parse(readFileSync(out, 'utf8'))
    totals.passed += r.numPassedTests
    totals.failed += r.numFailedTests
    totals.skipped += r.numPendingTests + r.numTodoTests
  } catch {
    totals.failed += 1
  }
  return ok
}

const skipped = []
const [hasPg, hasRedis] = await Promise.all([reachable(pgUrl), reachable(redisUrl)])
if (ci && !hasPg) throw new Error(`CI: PostgreSQL is not reachable at ${pgUrl}`)
if (ci && !hasRedis) throw new Error(`CI: Redis is not reachable at ${redisUrl}`)
if (!hasRedis) skipped.push(`Redis suites (no Redis at ${redisUrl})`)
if (!hasPg) skipped.push(`PostgreSQL run of the suite (no PostgreSQL at ${pgUrl})`)
if (!hasPg || !hasRedis)
  skipped.push('multi-instance suites test/multi/* (they need both PostgreSQL and Redis)')
const hasPython =
  spawnSync('/usr/bin/python3', ['-c', 'import fastapi, jwt, uvicorn'], { stdio: 'ignore' })
    .status === 0
if (ci && !hasPython) throw new Error('CI: /usr/bin/python3 lacks fastapi, jwt or uvicorn')
if (!hasPython)
  skipped.push('FastAPI example test (apt-get install python3-fastapi python3-jwt python3-uvicorn)')

const env = {
  TEST_REDIS_URL: hasRedis ? redisUrl : undefined,
  TEST_DATABASE_URL: hasPg ? pgUrl : undefined,
}
let ok = run('type-check', 'npx', ['tsc', '-p', 'tsconfig.json', '--noEmit'])
// Its package-shape test loads packages/verify/dist by the package's name.
ok = run('build @keygate/verify', 'npm', ['run', 'build', '-w', '@keygate/verify']) && ok
if (fast) {
  skipped.push(`slow folders ${SLOW.join(', ')}, lint, build and PostgreSQL (npm test runs them)`)
  const exclude = SLOW.flatMap((glob) => ['--exclude', glob])
  ok = vitest('sqlite', { ...env, KEYGATE_TEST_DB: 'sqlite' }, exclude) && ok
} else {
  // The CLI test runs bin/keygate.js, which runs dist/: never a stale one.
  ok = run('build', 'node', ['scripts/build.js']) && ok
  // The same command as `npm run lint`: Biome, then knip (unused files, exports, dependencies).
  ok = run('lint', 'npm', ['run', '--silent', 'lint']) && ok
  ok = vitest('sqlite', { ...env, KEYGATE_TEST_DB: 'sqlite' }) && ok
  if (hasPg)
    ok =
      vitest('postgres', { ...env, KEYGATE_TEST_DB: 'postgres' }, ['--exclude', 'test/e2e/**']) &&
      ok
}

console.log('')
for (const s of skipped) console.log(`SKIPPED: ${s}`)
console.log(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`)
process.exit(ok && totals.failed === 0 ? 0 : 1)
