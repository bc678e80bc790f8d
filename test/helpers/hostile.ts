import fc from 'fast-check'
import type { FastifyInstance, InjectOptions } from 'fastify'
import { must } from './must.js'

/** A value that must never come back in an error body (SPEC §3: no submitted value echoed). */
export const ECHO_MARKER = 'kg-echo-marker-7d1f'

interface JsonSchema {
  type?: string
  properties?: Record<string, JsonSchema>
  anyOf?: JsonSchema[]
}

export interface RouteRef {
  method: string
  /** OpenAPI path, `{param}` placeholders */
  path: string
  /** the documented body, to build well-typed bodies with hostile strings in them */
  body?: { contentType: string; schema: JsonSchema }
}

type Operation = { requestBody?: { content: Record<string, { schema: JsonSchema }> } }

/**
 * Every documented route, read from the app's own OpenAPI document, so routes
 * added later are covered without touching the tests; plus the hidden ones.
 */
export function appRoutes(app: FastifyInstance): RouteRef[] {
  const doc = app.swagger() as { paths: Record<string, Record<string, Operation>> }
  const routes: RouteRef[] = [
    { method: 'GET', path: '/openapi.json' },
    { method: 'GET', path: '/docs' },
  ]
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue
      const [contentType, media] = Object.entries(op.requestBody?.content ?? {})[0] ?? []
      const body = contentType && media ? { contentType, schema: media.schema } : undefined
      routes.push({ method: method.toUpperCase(), path, body })
    }
  }
  return routes
}

const FIELD_NAMES = [
  '__proto__',
  'constructor',
  'prototype',
  'email',
  'password',
  'username',
  'new_password',
  'current_password',
  'title',
  'content',
  'published',
  'is_superuser',
  'is_active',
  'owner_id',
  'id',
  'token',
  'refresh_token',
  'grant_type',
  'scope',
  'client_id',
  'all',
  'limit',
  'offset',
]

/** Percent-encodes every UTF-8 byte (lone surrogates become U+FFFD, as a client would send). */
const pct = (s: string) =>
  [...Buffer.from(s, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')

const key = fc.oneof(fc.constantFrom(...FIELD_NAMES), fc.string({ unit: 'binary', maxLength: 20 }))

const hostileString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constant(ECHO_MARKER),
  fc.constant(`${ECHO_MARKER}\u0000\u0000`),
  fc.string({ maxLength: 10 }).map((s) => `${s}\u0000${s}`),
  fc.constantFrom('a@b.c', 'USER@EXAMPLE.COM', 'admin', 'Passw0rd!xyz', '0', '-1', 'true', 'null'),
  fc.integer({ min: 1000, max: 70_000 }).map((n) => 'x'.repeat(n)),
)

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: hostileString },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  fc.constant({ __proto__: null, is_superuser: true }),
  fc.constantFrom(null, true, false, 0, -1, 1e308, 2 ** 53 + 1, [], {}),
)

/** JSON text built by hand, so keys may repeat and `__proto__` stays a plain key. */
const jsonObjectText = fc
  .array(fc.tuple(key, hostileValue), { maxLength: 8 })
  .map(
    (entries) =>
      `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v) ?? 'null'}`).join(',')}}`,
  )

const formText = fc
  .array(fc.tuple(key, hostileString), { maxLength: 8 })
  .chain((entries) =>
    fc
      .constantFrom('', '&%', '&a=%zz', '&b=%FF%FE', '&c=%00', '&&=&')
      .map((tail) => entries.map(([k, v]) => `${pct(k)}=${pct(v)}`).join('&') + tail),
  )

/** Values that have broken real servers: NUL (PostgreSQL text), lone surrogates, sizes, blanks. */
const NASTY = [
  'a\u0000b',
  'user\u0000@example.com',
  `${ECHO_MARKER}@example.com`,
  '\ud800',
  ' ',
  'x'.repeat(5000),
]

/** A value of the schema's own type; every string in it hostile. */
function typed(schema: JsonSchema): fc.Arbitrary<unknown> {
  if (schema.anyOf) return fc.oneof(...schema.anyOf.map(typed))
  switch (schema.type) {
    case 'string':
      return fc.oneof(fc.constantFrom(...NASTY), hostileString)
    case 'boolean':
      return fc.boolean()
    case 'integer':
    case 'number':
      return fc.oneof(fc.integer(), fc.constantFrom(0, -1, 2 ** 53 + 1))
    case 'null':
      return fc.constant(null)
    case 'object': {
      const props = Object.entries(schema.properties ?? {})
      return fc.record(Object.fromEntries(props.map(([k, v]) => [k, typed(v)])), {
        requiredKeys: [],
      })
    }
    default:
      return fc.jsonValue({ maxDepth: 2 })
  }
}

/** A body shaped as the route documents it, so hostile strings get past type checks. */
function shapedBody(body: RouteRef['body']): fc.Arbitrary<Body> {
  if (!body) return hostileBody
  return typed(body.schema).map((value) => ({
    contentType: body.contentType,
    payload: body.contentType.includes('urlencoded')
      ? Object.entries(value as Record<string, unknown>)
          .map(([k, v]) => `${pct(k)}=${pct(String(v))}`)
          .join('&')
      : JSON.stringify(value),
  }))
}

/** Every known field set to one nasty value at once, so each route meets it in its own fields. */
const everyField = fc.constantFrom(...NASTY).chain((v) =>
  fc.constantFrom(
    {
      payload: JSON.stringify(Object.fromEntries(FIELD_NAMES.slice(3).map((k) => [k, v]))),
      contentType: 'application/json',
    },
    {
      payload: FIELD_NAMES.slice(3)
        .map((k) => `${k}=${pct(v)}`)
        .join('&'),
      contentType: 'application/x-www-form-urlencoded',
    },
  ),
)

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'application/x-www-form-urlencoded',
  'text/plain',
  'application/octet-stream',
  'multipart/form-data; boundary=xyz',
  'application/xml',
  'application/json, text/plain',
  ';;;',
]

export interface Body {
  payload?: string | Buffer
  contentType?: string
}

/** Bodies of every hostile kind the issue lists. */
export const hostileBody: fc.Arbitrary<Body> = fc.oneof(
  { weight: 4, arbitrary: everyField },
  fc.record({
    payload: fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null'),
    contentType: fc.constant('application/json'),
  }),
  fc.record({ payload: jsonObjectText, contentType: fc.constant('application/json') }),
  fc.record({ payload: formText, contentType: fc.constant('application/x-www-form-urlencoded') }),
  fc.record({
    payload: fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b)),
    contentType: fc.constantFrom(...CONTENT_TYPES),
  }),
  fc.record({
    payload: fc.oneof(jsonObjectText, formText),
    contentType: fc.constantFrom(...CONTENT_TYPES),
  }),
  fc.record({ contentType: fc.constantFrom(undefined, 'application/json') }),
)

const headerToken = fc.stringMatching(/^[\x21-\x7e]{0,60}$/)

/** Authorization variants: the attacker's real token, none, or junk. */
export const authHeader = (validBearer: string) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constant(validBearer) },
    { weight: 2, arbitrary: fc.constant(undefined) },
    headerToken.map((t) => `Bearer ${t}`),
    headerToken.map((t) => `Basic ${t}`),
    headerToken,
  )

const query = fc.oneof(
  fc.constant(''),
  fc
    .array(fc.tuple(fc.constantFrom('limit', 'offset', 'x', '__proto__'), headerToken), {
      maxLength: 4,
    })
    .map((pairs) => `?${pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')}`),
)

/** Concrete requests for one route: path params from `ids` (real ones), random uuids or junk. */
export function requestsFor(route: RouteRef, ids: string[], validBearer: string) {
  const param = fc.oneof(
    fc.constantFrom(...ids),
    fc.uuid(),
    fc.string({ unit: 'binary', maxLength: 30 }).map(pct),
  )
  const names = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) =>
    must(m[1], 'a path parameter name'),
  )
  return fc
    .record({
      params: fc.array(param, { minLength: names.length, maxLength: names.length }),
      body: fc.oneof(hostileBody, shapedBody(route.body)),
      auth: authHeader(validBearer),
      query,
    })
    .map(({ params, body, auth, query }): InjectOptions => {
      let i = 0
      const url = route.path.replace(/\{\w+\}/g, () => params[i++] ?? '') + query
      const headers: Record<string, string> = {}
      if (auth !== undefined) headers.authorization = auth
      if (body.contentType !== undefined) headers['content-type'] = body.contentType
      return {
        method: route.method as InjectOptions['method'],
        url,
        headers,
        ...(body.payload !== undefined && { payload: body.payload }),
      }
    })
}
