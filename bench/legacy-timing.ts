// Measures what sign-in timing tells apart: an unknown email, a native
// Argon2id account and an imported, not-yet-upgraded bcrypt-12 account, all
// with a wrong password, with production Argon2id parameters. The attacker's
// best move against a floor over the last N requests is to send a burst of
// cheap failures (in parallel) right before each probe; `--flush N` does that.
// Usage: npx tsx bench/legacy-timing.ts [--rounds 10] [--flush 70]
// Results: docs/decisions/legacy-hash-timing.md.
import { randomUUID } from 'node:crypto'
import { parseArgs } from 'node:util'
import { hash as bcryptHash } from '@node-rs/bcrypt'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { createDatabase } from '../src/db/database.js'
import { createUsersRepo } from '../src/repos/accounts/users.js'

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '10' }, flush: { type: 'string', default: '70' } },
})
const rounds = Number(values.rounds)
const flush = Number(values.flush)

const config = {
  ...loadConfig({
    SECRET_KEY: 'x'.repeat(32),
    DATABASE_URL: 'sqlite::memory:',
    LOG_LEVEL: 'silent',
  }),
  rateLimit: { ...loadConfig({}).rateLimit, enabled: false },
}
const database = createDatabase('sqlite::memory:')
const app = await buildApp(config, { database })
const users = createUsersRepo(database.db)
const body = (username: string) =>
  new URLSearchParams({ username, password: 'wrong-password-here' }).toString()
const attempt = async (login: string) => {
  const start = process.hrtime.bigint()
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/token',
    payload: body(login),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  })
  if (res.statusCode !== 400) throw new Error(`unexpected ${res.statusCode}`)
  return Number(process.hrtime.bigint() - start) / 1e6
}
const unknown = () => `nobody-${randomUUID()}@example.com`

await app.inject({
  method: 'POST',
  url: '/api/v1/auth/signup',
  payload: { email: 'native@example.com', password: 'native-password-1' },
})
const add = async (email: string, hashed: string) =>
  users.insert({
    id: randomUUID(),
    email,
    username: null,
    hashed_password: hashed,
    is_active: true,
    is_superuser: false,
    created_at: new Date(),
  })
await add('legacy@example.com', await bcryptHash('legacy-password-1', 12))

// A fresh process: the very first probe of each kind, before any legacy login.
const first = { unknown: await attempt(unknown()), legacy: await attempt('legacy@example.com') }
const samples: Record<string, number[]> = { unknown: [], native: [], legacy: [] }
for (let r = 0; r < rounds; r++) {
  for (const [kind, login] of [
    ['unknown', unknown],
    ['native', () => 'native@example.com'],
    ['legacy', () => 'legacy@example.com'],
  ] as const) {
    await Promise.all(Array.from({ length: flush }, () => attempt(unknown())))
    samples[kind]!.push(await attempt(login()))
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const fmt = (xs: number[]) =>
  `median ${median(xs).toFixed(0)} ms, min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)}`
console.log(`rounds ${rounds}, flush ${flush} cheap failures before each probe`)
console.log(
  `first probes of a fresh process: unknown ${first.unknown.toFixed(0)} ms, legacy ${first.legacy.toFixed(0)} ms`,
)
for (const [kind, xs] of Object.entries(samples)) console.log(`${kind.padEnd(8)} ${fmt(xs)}`)
// How many probes a threshold halfway between the medians classifies right.
const cut = (median(samples.unknown!) + median(samples.legacy!)) / 2
const right =
  samples.legacy!.filter((x) => x > cut).length + samples.unknown!.filter((x) => x <= cut).length
console.log(`threshold ${cut.toFixed(0)} ms tells legacy from unknown in ${right}/${2 * rounds}`)
await app.close()
await database.close()
