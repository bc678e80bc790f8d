import formbody from '@fastify/formbody'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { basicCredentials } from '../../services/oauth/clients.js'
import { hooksOf } from '../route-config.js'
import { issueAt, RequestValidationError } from './validation-issues.js'

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
      done(new RequestValidationError([issueAt([part, ...path], 'nullCharacter')]))
      return
    }
  }
  done()
}

/** The request formats the API reads: JSON and forms, nothing else. */
export default fp(async function bodyParsingPlugin(app: FastifyInstance) {
  // An empty JSON body is no body: a route whose body is optional (logout) takes
  // it, and a route that needs one answers FastAPI's 422 `missing` at ["body"],
  // as it does when no body is sent at all. Poisoned keys are dropped, as the
  // app's onProtoPoisoning / onConstructorPoisoning say.
  const json = app.getDefaultJsonParser('remove', 'remove')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) =>
    body === '' ? done(null, undefined) : json(request, body as string, done),
  )
  await app.register(formbody, { parser: parseForm })
  // Only JSON and forms are API formats; Fastify's built-in text/plain parser would
  // turn any text into a string body (a confusing 422 instead of 415).
  app.removeContentTypeParser('text/plain')

  // PostgreSQL text cannot hold U+0000 (it would fail as a 500), and no field
  // of Keygate's has a use for it: refuse it before validation, as a 422.
  app.addHook('onRoute', (route) => {
    if (route.schema?.body || route.schema?.querystring) {
      route.preValidation = [refuseNullCharacters, ...hooksOf(route.preValidation)]
    }
  })
})
