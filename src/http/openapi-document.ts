import type { TSchema } from 'typebox'
import { ErrorOut, OAuthErrorOut, ValidationErrorOut } from './schemas/common.js'
import { NotReadyOut } from './schemas/health.js'
import { PostOut } from './schemas/posts.js'
import { SignInRefusedOut, TokenOut } from './schemas/signup-login.js'
import { SessionOut } from './schemas/tokens.js'
import { UserOut } from './schemas/users.js'

// What /openapi.json adds to the route schemas so that generated clients come
// out clean (named types, every status typed). Documentation only: the route
// schemas that validate and serialize are left as they are.

/** Named components: every identical schema in the document becomes a $ref to one of these. */
const COMPONENTS: Record<string, TSchema> = {
  User: UserOut,
  Post: PostOut,
  Session: SessionOut,
  TokenResponse: TokenOut,
  Error: ErrorOut,
  OAuthError: OAuthErrorOut,
  ValidationError: ValidationErrorOut,
  NotReady: NotReadyOut,
  SignInRefused: SignInRefusedOut,
}

/** Why each status happens, for responses that do not say it themselves. */
const DESCRIPTIONS: Record<string, string> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'No content',
  400: 'Refused: the detail (and, on OAuth endpoints, the error code) says why',
  401: 'Not authenticated, or the token is invalid, expired or revoked (see WWW-Authenticate)',
  403: "Authenticated, but not allowed: the token lacks the operation's scope (insufficient_scope), not a superuser, not the owner, or an inactive user",
  404: 'No such resource',
  409: 'Conflicts with existing data: email or username taken, or the last active superuser',
  413: 'The request body is larger than 64 KiB',
  415: 'The Content-Type is not one this operation accepts',
  422: 'The request failed validation: detail lists each problem (loc, msg, type)',
  429: 'Throttled: retry after the Retry-After seconds',
  503: 'The database or Redis is unavailable: retry after the Retry-After seconds',
}

const RETRY_AFTER = {
  'Retry-After': { description: 'seconds to wait', schema: { type: 'integer' } },
}

interface RouteSchema {
  body?: unknown
  querystring?: unknown
  params?: unknown
  security?: unknown[]
  response?: Record<string, unknown>
  [key: string]: unknown
}

/** The statuses any route of its kind can answer, beside those its schema lists. */
export function documentRoute({
  schema,
  url,
  route,
}: {
  schema: RouteSchema | undefined
  url: string
  route: { config?: { rateLimited?: boolean; scope?: string } }
}) {
  if (!schema || schema.hide) return { schema, url }
  const scope = route.config?.scope
  // The route's scope is its OAuth2 requirement, so Swagger UI's Authorize dialog asks for it.
  const security = scope === undefined ? schema.security : withScope(schema.security, scope)
  const extra: Record<string, unknown> = {}
  if (schema.body) Object.assign(extra, { 413: ErrorOut, 415: ErrorOut, 422: ValidationErrorOut })
  if (schema.querystring || schema.params) extra[422] = ValidationErrorOut
  if (security?.length) extra[401] = ErrorOut
  if (scope !== undefined) extra[403] = ErrorOut
  if (route.config?.rateLimited) extra[429] = ErrorOut
  if (url.startsWith('/api/')) extra[503] = ErrorOut
  const response = { ...extra, ...schema.response }
  const documented = { ...schema, security, querystring: optionalDefaults(schema.querystring) }
  return { schema: { ...documented, response }, url }
}

/** Each OAuth2 requirement of `security` narrowed to the one scope the route needs. */
function withScope(security: unknown[] | undefined, scope: string): unknown[] | undefined {
  return security?.map((requirement) =>
    Object.fromEntries(Object.keys(requirement as object).map((name) => [name, [scope]] as const)),
  )
}

/** A query parameter with a default need not be sent: not `required` in the document. */
function optionalDefaults(query: unknown): unknown {
  const q = query as { properties?: Record<string, { default?: unknown }>; required?: string[] }
  if (!q?.required || !q.properties) return query
  const required = q.required.filter((name) => q.properties?.[name]?.default === undefined)
  return { ...q, required }
}

type Json = Record<string, unknown>

// @fastify/swagger writes a TypeBox literal's `const` as a one-value `enum`: so do the components.
const asSwaggerWrites = (value: unknown): unknown =>
  JSON.parse(JSON.stringify(value), (_key, v) => {
    if (!v || typeof v !== 'object' || Array.isArray(v) || !('const' in v)) return v
    const { const: only, ...rest } = v
    return { ...rest, enum: [only] }
  })

const ERROR_COMPONENTS = new Set([
  'Error',
  'OAuthError',
  'ValidationError',
  'NotReady',
  'SignInRefused',
])

const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  )

/** Adds the components, points identical schemas at them, and describes every response. */
export function documentObject({ openapiObject }: { openapiObject: Json }): Json {
  const doc = structuredClone(openapiObject) as Json & {
    components: { schemas?: Json }
    paths: Record<string, Record<string, Json>>
  }
  const named = new Map<string, string>()
  doc.components.schemas ??= {}
  for (const [name, schema] of Object.entries(COMPONENTS)) {
    const json = asSwaggerWrites(schema)
    doc.components.schemas[name] = json
    named.set(canonical(json), name)
  }
  // A success body that happens to be `{detail}` (a 202 acknowledgement) is no Error.
  const refs = (node: unknown, errors: boolean): unknown => {
    if (Array.isArray(node)) return node.map((n) => refs(n, errors))
    if (!node || typeof node !== 'object') return node
    const name = named.get(canonical(node))
    if (name && (errors || !ERROR_COMPONENTS.has(name))) {
      return { $ref: `#/components/schemas/${name}` }
    }
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, refs(v, errors)]))
  }
  for (const operations of Object.values(doc.paths)) {
    for (const operation of Object.values(operations)) {
      const responses = (operation.responses ?? {}) as Record<string, Json>
      for (const [status, response] of Object.entries(responses)) {
        if (!response.description || response.description === 'Default Response') {
          response.description = DESCRIPTIONS[status] ?? 'See the operation description'
        }
        if (status === '429' || status === '503') response.headers ??= RETRY_AFTER
        if (response.content) response.content = refs(response.content, Number(status) >= 400)
      }
    }
  }
  return doc
}
