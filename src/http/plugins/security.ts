import cors from '@fastify/cors'
import formbody from '@fastify/formbody'
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import helmet from 'helmet'
import { ValidationError } from '../../errors.js'
import { basicCredentials } from '../client-context.js'
import { hooksOf } from '../route-config.js'

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

/**
 * The headers of every API (JSON) response: OWASP's REST Security Cheat Sheet
 * set. A JSON body renders nothing, so a CSP that allows nothing and forbids
 * framing is both the strictest and the shortest; the document-only headers
 * helmet adds for HTML pages would make every response ~500 bytes longer and
 * cost about a tenth of an authenticated read (bench/README.md).
 */
export const API_HEADERS = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'cross-origin-resource-policy': 'same-origin',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
} as const

/** helmet's full set for the HTML pages (/docs, /reset-password), computed once. */
function pageHeaders(): Record<string, string> {
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
  const headers: Record<string, string> = {}
  const capture = {
    setHeader: (name: string, value: string) => {
      headers[name.toLowerCase()] = value
    },
    removeHeader: () => {},
  }
  securityHeaders({} as never, capture as never, () => {})
  return headers
}

/** Routes answered with a token (RFC 6749 §5.1), known from their response schema. */
function answersWithToken(schema: { response?: Record<string, unknown> } | undefined): boolean {
  return Object.values(schema?.response ?? {}).some((out) => {
    const properties = (out as { properties?: Record<string, unknown> }).properties ?? {}
    return 'access_token' in properties || 'refresh_token' in properties
  })
}

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' } as const

export default fp(async function securityPlugin(
  app: FastifyInstance,
  opts: { corsOrigins: string[] },
) {
  const PAGE_HEADERS = pageHeaders()
  // Synchronous, one per request: an async hook costs a promise on every request.
  app.addHook('onRequest', (request, reply, done) => {
    reply.headers(API_HEADERS)
    // RFC 6750 §5.3: whatever was answered to a bearer must not be stored by a cache.
    if (request.headers.authorization !== undefined) reply.headers(NO_STORE)
    done()
  })

  // Per-route work is attached per route, so the other routes never pay for it.
  app.addHook('onRoute', (route) => {
    const extra: onRequestHookHandler[] = []
    if (route.config?.page || route.url.startsWith('/docs')) {
      extra.push((_request, reply, done) => {
        reply.headers(PAGE_HEADERS)
        done()
      })
    }
    // RFC 6749 §5.1: a response carrying a token must not be stored either.
    if (answersWithToken(route.schema as never)) {
      extra.push((_request, reply, done) => {
        reply.headers(NO_STORE)
        done()
      })
    }
    if (extra.length > 0) route.onRequest = [...extra, ...hooksOf(route.onRequest)]
    // PostgreSQL text cannot hold U+0000 (it would fail as a 500), and no field
    // of Keygate's has a use for it: refuse it before validation, as a 422.
    if (route.schema?.body || route.schema?.querystring) {
      route.preValidation = [refuseNullCharacters, ...hooksOf(route.preValidation)]
    }
  })

  await app.register(cors, {
    origin: opts.corsOrigins.length > 0 ? opts.corsOrigins : false,
    exposedHeaders: ['Location', 'Retry-After', 'X-Request-ID'],
  })
  await app.register(formbody, { parser: parseForm })
  // Only JSON and forms are API formats; Fastify's built-in text/plain parser would
  // turn any text into a string body (a confusing 422 instead of 415).
  app.removeContentTypeParser('text/plain')
})

function refuseNullCharacters(
  request: FastifyRequest,
  _reply: FastifyReply,
  done: (err?: Error) => void,
): void {
  // Node's parser refuses a raw NUL in a header; a decoded Basic credential can still hold one.
  const basic = basicCredentials(request.headers.authorization)
  for (const [part, value] of [
    ['body', request.body],
    ['query', request.query],
    ['header', basic && { authorization: `${basic.clientId ?? ''}:${basic.secret ?? ''}` }],
  ] as const) {
    const path = nullCharPath(value)
    if (path) {
      done(
        new ValidationError([
          {
            loc: [part, ...path],
            msg: 'String should not contain null characters',
            type: 'value_error',
          },
        ]),
      )
      return
    }
  }
  done()
}
