import type { ServerResponse } from 'node:http'
import type { VerifyError } from './errors.js'

/** Answers a refusal on a plain Node response: status, headers and `{"detail": …}`. */
export function sendVerifyError(res: ServerResponse, err: VerifyError): void {
  const body = JSON.stringify(err.body)
  res.statusCode = err.status
  for (const [name, value] of Object.entries(err.headers)) res.setHeader(name, value)
  res.setHeader('content-type', 'application/json')
  res.setHeader('content-length', Buffer.byteLength(body))
  // An answer about credentials is never cached by an intermediary (RFC 6750 §5.3 spirit).
  res.setHeader('cache-control', 'no-store')
  res.end(body)
}
