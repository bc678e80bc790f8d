import { createHmac, timingSafeEqual } from 'node:crypto'
import type { Clock } from '../../domain/time.js'

/** How long a consent page may sit open before its decision is refused. */
export const CONSENT_REQUEST_SECONDS = 600

// Far above any request the authorization endpoint accepts; bounds the JSON parsed.
const MAX_SEALED = 32_768

/** Authorization request parameters, as the authorization endpoint reads them. */
export type RequestParams = Record<string, string[]>

const isParams = (v: unknown): v is RequestParams =>
  typeof v === 'object' &&
  v !== null &&
  !Array.isArray(v) &&
  Object.values(v).every((a) => Array.isArray(a) && a.every((s) => typeof s === 'string'))

/**
 * The pending authorization request a consent page carries: its parameters
 * and an expiry under an HMAC of the server secret, bound to the browser
 * session that saw the page. Nothing in it is trusted beyond "this browser
 * was shown this request": the client, redirect URI and scope are checked
 * against the registry again when the decision comes back.
 */
export function createConsentRequests(key: Uint8Array, clock: Clock) {
  const mac = (sessionId: string, body: string) =>
    createHmac('sha256', key).update(`consent.v1.${sessionId}.${body}`).digest('base64url')

  return {
    /** Seals `params` for the browser session `sessionId`: `body.mac`, URL-safe. */
    seal(params: RequestParams, sessionId: string): string {
      const exp = Math.floor(clock.now().getTime() / 1000) + CONSENT_REQUEST_SECONDS
      const body = Buffer.from(JSON.stringify({ p: params, e: exp })).toString('base64url')
      return `${body}.${mac(sessionId, body)}`
    },

    /** The parameters sealed for this browser session, while live; undefined for anything else. */
    open(sealed: unknown, sessionId: string): RequestParams | undefined {
      if (typeof sealed !== 'string' || sealed.length > MAX_SEALED) return undefined
      const [body, tag, ...rest] = sealed.split('.')
      if (body === undefined || tag === undefined || rest.length > 0) return undefined
      const given = Buffer.from(tag)
      const wanted = Buffer.from(mac(sessionId, body))
      if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) return undefined
      const { p, e } = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as {
        p: unknown
        e: unknown
      }
      if (typeof e !== 'number' || e * 1000 <= clock.now().getTime()) return undefined
      return isParams(p) ? p : undefined
    },
  }
}
