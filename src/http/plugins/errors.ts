import { STATUS_CODES } from 'node:http'
import type { Duplex } from 'node:stream'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { describeDatabaseError, isDatabaseUnavailable } from '../../db/unavailable.js'
import {
  ERRORS,
  type ErrorName,
  KeygateError,
  statusText,
  ValidationError,
  type ValidationIssue,
} from '../../errors.js'
import { API_HEADERS } from './response-headers.js'
import {
  bodyIssues,
  issueAt,
  RequestValidationError,
  toValidationIssues,
} from './validation-issues.js'

// Fastify's own errors that are the client's fault, and how each is answered.
const FASTIFY_CODES: Record<string, ErrorName> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'MALFORMED_BODY',
  FST_ERR_CTP_INVALID_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
}

/**
 * Sends an error body as a ready string, so no response schema can strip
 * fields from it. No error body ever carries a stack, SQL or submitted value.
 */
export function sendError(
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

/**
 * A KeygateError as its table entry says. An entry with an RFC 6749 §5.2 code
 * (raised by the OAuth services) also carries `error` and `error_description`.
 */
function sendKeygateError(reply: FastifyReply, err: KeygateError) {
  const body = err.oauthError
    ? { error: err.oauthError, error_description: err.detail, ...err.extra, detail: err.detail }
    : { detail: err.detail, ...err.extra }
  return sendError(reply, err.statusCode, body, err.headers)
}

const sendIssues = (reply: FastifyReply, issues: ValidationIssue[]) =>
  sendError(reply, 422, { detail: issues })

/**
 * Fastify's router answers a bad URL encoding (400) or an over-long path
 * parameter (414) before any hook runs; this keeps those in the `{detail}` shape.
 */
export function frameworkErrors(err: FastifyError, _request: FastifyRequest, reply: FastifyReply) {
  const status = err.statusCode && err.statusCode < 500 ? err.statusCode : 400
  return sendError(reply, status, { detail: statusText(status) })
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

/** Every thrown error becomes `{detail}`: from the table, as a 422 list, or a bare status. */
export default fp(async function errorsPlugin(app: FastifyInstance) {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err instanceof KeygateError) return sendKeygateError(reply, err)
    if (err instanceof ValidationError) return sendIssues(reply, bodyIssues(err.issues))
    if (err instanceof RequestValidationError) return sendIssues(reply, err.issues)
    if (err.validation) {
      return sendIssues(reply, toValidationIssues(err.validation, err.validationContext, request))
    }
    if (err instanceof SyntaxError || err.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
      return sendIssues(reply, [issueAt(['body'], 'jsonInvalid')])
    }
    const known = err.code ? FASTIFY_CODES[err.code] : undefined
    if (known) {
      const spec = ERRORS[known]
      return sendError(reply, spec.status, { detail: spec.detail })
    }
    // A client that hung up mid-body surfaces as ECONNRESET, which would read as an outage.
    if (request.raw.readableAborted) {
      request.log.info(
        { method: request.method, url: pathOf(request) },
        'request aborted by client',
      )
      return sendError(reply, 400, { detail: statusText(400) })
    }
    if (isDatabaseUnavailable(err)) {
      // An outage, not a bug: 503 so clients retry; the pool reconnects by itself.
      // Only the reason: a driver error object can carry connection details.
      const reason = describeDatabaseError(err)
      request.log.warn(
        { reason, method: request.method, url: pathOf(request) },
        'database unavailable',
      )
      return sendKeygateError(reply, new KeygateError('SERVICE_UNAVAILABLE'))
    }
    const status = err.statusCode ?? 500
    if (status >= 400 && status < 500) {
      // Another client error from Fastify or a plugin: keep its status, not its text.
      return sendError(reply, status, { detail: statusText(status) })
    }
    // Logged with what identifies the request, never its body.
    request.log.error({ err, method: request.method, url: pathOf(request) }, 'unhandled error')
    return sendError(reply, 500, { detail: ERRORS.INTERNAL.detail })
  })
})
