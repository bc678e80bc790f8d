import { STATUS_CODES } from 'node:http'
import type { Duplex } from 'node:stream'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { HTTPMethod } from 'find-my-way'
import FindMyWay from 'find-my-way'
import { describeDatabaseError, isDatabaseUnavailable } from '../../db/unavailable.js'
import {
  ERRORS,
  type ErrorName,
  KeygateError,
  ValidationError,
  type ValidationIssue,
} from '../../errors.js'
import { API_HEADERS } from './security.js'
import { toValidationIssues } from './validation-issues.js'

import '../route-config.js'

// Fastify's own errors that are the client's fault, and how each is answered.
const FASTIFY_CODES: Record<string, ErrorName> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'MALFORMED_BODY',
  FST_ERR_CTP_INVALID_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
}

const OAUTH_CREDENTIAL_ERRORS = new Set<ErrorName>(['INVALID_CREDENTIALS', 'INVALID_REFRESH_TOKEN'])

/**
 * Sends an error body as a ready string, so no response schema can strip
 * fields from it. No error body ever carries a stack, SQL or submitted value.
 */
function send(
  reply: FastifyReply,
  status: number,
  body: object,
  headers: Record<string, string> = {},
) {
  return reply
    .code(status)
    .headers(headers)
    .type('application/json; charset=utf-8')
    .send(JSON.stringify(body))
}

function sendKeygateError(request: FastifyRequest, reply: FastifyReply, err: KeygateError) {
  if (request.routeOptions.config.oauth) {
    // RFC 6749 §5.2: invalid credentials and bad refresh tokens are invalid_grant,
    // 400, with no WWW-Authenticate (a challenge there makes clients skip the body).
    const e = OAUTH_CREDENTIAL_ERRORS.has(err.code) ? new KeygateError('INVALID_GRANT') : err
    const oauthError = e.oauthError ?? (e.statusCode === 403 ? 'invalid_grant' : undefined)
    const headers = { ...e.headers }
    delete headers['WWW-Authenticate']
    const body = oauthError
      ? { error: oauthError, error_description: e.detail, detail: e.detail }
      : { detail: e.detail }
    return send(reply, e.statusCode, body, headers)
  }
  return send(reply, err.statusCode, { detail: err.detail }, err.headers)
}

/**
 * Fastify's router answers a bad URL encoding (400) or an over-long path
 * parameter (414) before any hook runs; this keeps those in the `{detail}` shape.
 */
export function frameworkErrors(err: FastifyError, _request: FastifyRequest, reply: FastifyReply) {
  const status = err.statusCode && err.statusCode < 500 ? err.statusCode : 400
  return send(reply, status, { detail: statusText(status) })
}

/**
 * Requests Node's HTTP parser refuses before Fastify sees them (a malformed
 * request line or header, headers over 16 KiB, a client too slow to send its
 * request) are answered on the raw socket: in the `{detail}` shape, with the
 * API's security headers, and the connection closed, as Node itself would.
 */
export function clientErrors(this: FastifyInstance, err: NodeJS.ErrnoException, socket: Duplex) {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const status =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400
  this.log.debug({ code: err.code }, 'client error')
  if (socket.writable) {
    const body = JSON.stringify({ detail: statusText(status) })
    const headers = Object.entries({
      ...API_HEADERS,
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(body)),
      connection: 'close',
    })
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('')
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${headers}\r\n${body}`)
  }
  socket.destroy()
}

// Query strings can carry secrets (a token, a password sent the wrong way): logs get the path only.
const pathOf = (request: FastifyRequest) => request.url.split('?')[0]

const issuesBody = (issues: ValidationIssue[]) => ({ detail: issues })

export default fp(async function errorsPlugin(app: FastifyInstance) {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err instanceof KeygateError) return sendKeygateError(request, reply, err)
    if (err instanceof ValidationError) return send(reply, 422, issuesBody(err.issues))
    if (err.validation) {
      return send(
        reply,
        422,
        issuesBody(toValidationIssues(err.validation, err.validationContext, request)),
      )
    }
    if (err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
      return send(
        reply,
        422,
        issuesBody([{ loc: ['body'], msg: 'Field required', type: 'missing' }]),
      )
    }
    if (err instanceof SyntaxError || err.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
      return send(
        reply,
        422,
        issuesBody([{ loc: ['body'], msg: 'JSON decode error', type: 'json_invalid' }]),
      )
    }
    const known = err.code ? FASTIFY_CODES[err.code] : undefined
    if (known) {
      const spec = ERRORS[known]
      return send(reply, spec.status, { detail: spec.detail })
    }
    // A client that hung up mid-body surfaces as ECONNRESET, which would read as an outage.
    if (request.raw.readableAborted) {
      request.log.info(
        { method: request.method, url: pathOf(request) },
        'request aborted by client',
      )
      return send(reply, 400, { detail: statusText(400) })
    }
    if (isDatabaseUnavailable(err)) {
      // An outage, not a bug: 503 so clients retry; the pool reconnects by itself.
      // Only the reason: a driver error object can carry connection details.
      const reason = describeDatabaseError(err)
      request.log.warn(
        { reason, method: request.method, url: pathOf(request) },
        'database unavailable',
      )
      return sendKeygateError(request, reply, new KeygateError('DATABASE_UNAVAILABLE'))
    }
    const status = err.statusCode ?? 500
    if (status >= 400 && status < 500) {
      // Another client error from Fastify or a plugin: keep its status, not its text.
      return send(reply, status, { detail: statusText(status) })
    }
    // Logged with what identifies the request, never its body.
    request.log.error({ err, method: request.method, url: pathOf(request) }, 'unhandled error')
    return send(reply, 500, { detail: ERRORS.INTERNAL.detail })
  })

  // 405 for a path that exists under another method, as FastAPI answers.
  const known = FindMyWay()
  app.addHook('onRoute', (route) => {
    const methods = (Array.isArray(route.method) ? route.method : [route.method]) as HTTPMethod[]
    for (const method of methods) {
      if (method === 'HEAD' || known.hasRoute(method, route.url)) continue
      known.on(method, route.url, () => {})
    }
  })

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '/'
    const allowed = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].filter((m) =>
      known.find(m as HTTPMethod, path),
    )
    if (allowed.length > 0) {
      return send(
        reply,
        405,
        { detail: ERRORS.METHOD_NOT_ALLOWED.detail },
        { Allow: allowed.join(', ') },
      )
    }
    return send(reply, 404, { detail: ERRORS.NOT_FOUND.detail })
  })
})

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  411: 'Length Required',
  413: 'Request body too large',
  414: 'URI Too Long',
  415: 'Unsupported media type',
  431: 'Request Header Fields Too Large',
}

function statusText(status: number): string {
  return STATUS_TEXT[status] ?? 'Bad Request'
}
