import cors from '@fastify/cors'
import formbody from '@fastify/formbody'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import helmet from 'helmet'
import { ValidationError } from '../../errors.js'

/**
 * Parses application/x-www-form-urlencoded as FastAPI's Form() reads it: empty
 * values count as missing, a repeated key becomes a list (so a string field
 * answers 422), and keys like `__proto__` stay plain data.
 */
export function parseForm(body: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const [key, value] of new URLSearchParams(body)) {
    if (value === '') continue
    const prev = Object.hasOwn(out, key) ? out[key] : undefined
    const next = prev === undefined ? value : [...(Array.isArray(prev) ? prev : [prev]), value]
    Object.defineProperty(out, key, {
      value: next,
      enumerable: true,
      writable: true,
      configurable: true,
    })
  }
  return out
}

/** The path of the first string holding U+0000 in a parsed body, if any. */
export function nullCharPath(
  value: unknown,
  path: (string | number)[] = [],
): (string | number)[] | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path : undefined
  if (value === null || typeof value !== 'object' || path.length > 32) return undefined
  for (const [k, v] of Object.entries(value)) {
    const found = nullCharPath(v, [...path, Array.isArray(value) ? Number(k) : k])
    if (found) return found
  }
  return undefined
}

export default fp(async function securityPlugin(
  app: FastifyInstance,
  opts: { corsOrigins: string[] },
) {
  // helmet's middleware is built once, here: @fastify/helmet rebuilt it (and
  // re-parsed the CSP) on every request, ~5% of the CPU of an authenticated read.
  const securityHeaders = helmet({
    contentSecurityPolicy: {
      directives: {
        // Swagger UI at /docs is served from this origin: its scripts, styles and
        // the token request all stay on 'self'. http:// deployments must not be
        // told to upgrade their own requests.
        'upgrade-insecure-requests': null,
      },
    },
  })
  app.addHook('onRequest', (request, reply, done) =>
    securityHeaders(request.raw, reply.raw, (err) => done(err as Error | undefined)),
  )
  await app.register(cors, {
    origin: opts.corsOrigins.length > 0 ? opts.corsOrigins : false,
    exposedHeaders: ['Location', 'Retry-After', 'X-Request-ID'],
  })
  await app.register(formbody, { parser: parseForm })
  // Only JSON and forms are API formats; Fastify's built-in text/plain parser would
  // turn any text into a string body (a confusing 422 instead of 415).
  app.removeContentTypeParser('text/plain')

  // PostgreSQL text cannot hold U+0000 (it would fail as a 500), and no field
  // of Keygate's has a use for it: refuse it before validation, as a 422.
  app.addHook('preValidation', async (request) => {
    for (const [part, value] of [
      ['body', request.body],
      ['query', request.query],
    ] as const) {
      const path = nullCharPath(value)
      if (path) {
        throw new ValidationError([
          {
            loc: [part, ...path],
            msg: 'String should not contain null characters',
            type: 'value_error',
          },
        ])
      }
    }
  })

  // RFC 6749 §5.1 / RFC 6750 §5.3: whatever carries a token, and whatever was
  // answered to a bearer, must not be stored by a cache. Routes need not remember.
  app.addHook('onSend', async (request, reply, payload) => {
    const carriesToken =
      typeof payload === 'string' && /"(access_token|refresh_token)"\s*:/.test(payload)
    if (carriesToken || request.headers.authorization !== undefined) {
      reply.header('Cache-Control', 'no-store').header('Pragma', 'no-cache')
    }
    return payload
  })
})
