// The bench's yardstick: a bare node:http server, no framework, that does the
// least an authenticated read can do: verify an HS256 bearer token with
// node:crypto (HMAC, constant-time compare, exp check) and answer a fixed user.
import { createHmac, timingSafeEqual } from 'node:crypto'
import { createServer } from 'node:http'

const secret = process.env.SECRET_KEY
if (!secret) throw new Error('SECRET_KEY is required')
const USER = JSON.stringify({
  id: '00000000-0000-4000-8000-000000000000',
  email: 'bench@example.com',
  username: 'bench',
  is_active: true,
  is_superuser: false,
  created_at: '2024-01-01T00:00:00.000Z',
})
const UNAUTHORIZED = JSON.stringify({ detail: 'Could not validate credentials' })

function verify(header) {
  if (!header?.startsWith('Bearer ')) return false
  const token = header.slice(7)
  const dot2 = token.lastIndexOf('.')
  if (dot2 < 0) return false
  const expected = createHmac('sha256', secret).update(token.slice(0, dot2)).digest()
  const given = Buffer.from(token.slice(dot2 + 1), 'base64url')
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false
  const dot1 = token.indexOf('.')
  const claims = JSON.parse(Buffer.from(token.slice(dot1 + 1, dot2), 'base64url').toString())
  return typeof claims.exp === 'number' && claims.exp > Date.now() / 1000
}

const server = createServer((req, res) => {
  const ok = req.url === '/api/v1/users/me' && verify(req.headers.authorization)
  res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' })
  res.end(ok ? USER : UNAUTHORIZED)
})
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`)
})
process.once('SIGTERM', () => server.close(() => process.exit(0)))
