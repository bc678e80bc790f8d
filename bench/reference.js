// The reference issue 19 measures `me` against: a minimal Fastify server doing what
// Keygate's guard did per request before the liveness cache: verify an HS256 bearer
// token (node:crypto), read the session and its user from SQLite in one prepared
// statement, set Keygate's API security headers, and write one log line per request.
import { createHmac, timingSafeEqual } from 'node:crypto'
import Database from 'better-sqlite3'
import Fastify, { LogController } from 'fastify'

const secret = process.env.SECRET_KEY
const dbPath = process.env.DB_PATH
if (!secret || !dbPath) throw new Error('SECRET_KEY and DB_PATH are required')

const db = new Database(dbPath, { readonly: true })
db.pragma('journal_mode = WAL')
const liveWithUser = db.prepare(
  `select users.* from sessions inner join users on users.id = sessions.user_id
   where sessions.id = ? and sessions.user_id = ? and sessions.revoked_at is null
   and sessions.max_expires_at > ?`,
)

// Keygate's API headers (src/http/plugins/response-headers.ts), plus no-store for bearer calls.
const HEADERS = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'cross-origin-resource-policy': 'same-origin',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
  pragma: 'no-cache',
}
const UNAUTHORIZED = { detail: 'Could not validate credentials' }

function claimsOf(header) {
  if (!header?.startsWith('Bearer ')) return undefined
  const token = header.slice(7)
  const dot2 = token.lastIndexOf('.')
  if (dot2 < 0) return undefined
  const expected = createHmac('sha256', secret).update(token.slice(0, dot2)).digest()
  const given = Buffer.from(token.slice(dot2 + 1), 'base64url')
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined
  const claims = JSON.parse(
    Buffer.from(token.slice(token.indexOf('.') + 1, dot2), 'base64url').toString(),
  )
  return typeof claims.exp === 'number' && claims.exp > Date.now() / 1000 ? claims : undefined
}

const app = Fastify({
  logger: { level: 'info' },
  logController: new LogController({ disableRequestLogging: true }),
})
app.addHook('onRequest', async (_request, reply) => {
  reply.headers(HEADERS)
})
// One line per request, as Keygate writes by default.
app.addHook('onResponse', async (request, reply) => {
  request.log.info(
    { req: request, res: reply, responseTime: reply.elapsedTime },
    'request completed',
  )
})
app.get('/healthz', async () => ({ status: 'ok' }))
app.get('/api/v1/users/me', async (request, reply) => {
  const claims = claimsOf(request.headers.authorization)
  const user = claims && liveWithUser.get(claims.sid, claims.sub, new Date().toISOString())
  if (!user?.is_active) return reply.code(401).send(UNAUTHORIZED)
  const { id, email, username, is_active, is_superuser, created_at } = user
  return { id, email, username, is_active: !!is_active, is_superuser: !!is_superuser, created_at }
})
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) })
process.once('SIGTERM', () => app.close().then(() => process.exit(0)))
