import cors from '@fastify/cors'
import type { FastifyInstance, onRequestHookHandler, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import helmet from 'helmet'
import { hooksOf } from '../route-config.js'

/**
 * The headers of every API (JSON) response: OWASP's REST Security Cheat Sheet
 * set. A JSON body renders nothing, so a CSP that allows nothing and forbids
 * framing is both the strictest and the shortest; the document-only headers
 * helmet adds for HTML pages would only lengthen every response
 * (docs/decisions/security-headers-by-response-kind.md).
 */
export const API_HEADERS = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'cross-origin-resource-policy': 'same-origin',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
} as const

/**
 * The Content-Security-Policy of Keygate's own pages (http/pages): nothing
 * inline, the one stylesheet and (for the passkey page) scripts from this
 * origin, no framing. CSP `form-action` also governs every redirect that
 * follows a form post, so a page whose form leads to another site (the
 * consent page's redirect to a client) names that origin in `formAction`.
 */
export function hostedPageCsp(formAction: string[] = []): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    // the passkeys script's same-origin JSON calls (http/pages/passkey-ceremonies.ts)
    "connect-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `form-action ${["'self'", ...formAction].join(' ')}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ')
}

/** The headers of every hosted page (set by http/pages/kit/page-context.ts for its routes). */
export const HOSTED_PAGE_HEADERS = {
  ...API_HEADERS,
  'content-security-policy': hostedPageCsp(),
  'cross-origin-opener-policy': 'same-origin',
  // Not no-referrer: under it browsers send `Origin: null` on form posts, which
  // would defeat the Origin check. same-origin still sends no Referer off Keygate.
  'referrer-policy': 'same-origin',
  // Pages carry CSRF tokens and personal data: never stored by a cache.
  'cache-control': 'no-store',
  pragma: 'no-cache',
} as const

/** helmet's full set for /docs (Swagger UI), computed once. */
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

/**
 * The one place that decides `Cache-Control: no-store`. RFC 6749 §5.1: a
 * response carrying a token must not be stored (found from the response
 * schema, so a new token route cannot forget it); routes holding other secrets
 * (introspection, a page reached with a token in its URL) say `noStore`.
 */
const mustNotStore = (route: RouteOptions): boolean =>
  route.config?.noStore === true || answersWithToken(route.schema as never)

/** Security headers, no-store and CORS on every response. */
export default fp(async function responseHeadersPlugin(
  app: FastifyInstance,
  opts: { corsOrigins: string[]; corsCredentials?: boolean },
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
    if (mustNotStore(route)) {
      extra.push((_request, reply, done) => {
        reply.headers(NO_STORE)
        done()
      })
    }
    if (extra.length > 0) route.onRequest = [...extra, ...hooksOf(route.onRequest)]
  })

  // CORS_ORIGINS=* answers `Access-Control-Allow-Origin: *`: any site may call
  // the API with a bearer token it holds, never with cookies (config.ts refuses
  // credentials with `*`). The methods are every one the API routes use: the
  // plugin's default (GET, HEAD, POST) made browsers refuse PATCH and DELETE.
  const anyOrigin = opts.corsOrigins[0] === '*'
  await app.register(cors, {
    origin: anyOrigin ? '*' : opts.corsOrigins.length > 0 ? opts.corsOrigins : false,
    methods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'],
    credentials: opts.corsCredentials === true && !anyOrigin,
    exposedHeaders: ['Location', 'Retry-After', 'X-Request-ID'],
    // Preflights are cached by the browser for 10 minutes (Chromium's ceiling is 2 h).
    maxAge: 600,
  })
})
