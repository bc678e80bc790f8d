import cors from '@fastify/cors'
import formbody from '@fastify/formbody'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import helmet from 'helmet'

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
})
