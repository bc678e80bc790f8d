import type { FastifyReply, FastifyRequest } from 'fastify'
import type { ClientContext, SignIn, TokenPair } from '../domain/session.js'
import { KNOWN_DEVICE_DAYS } from '../services/sessions/known-device.js'

const formDecode = (s: string) => {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '))
  } catch {
    return undefined
  }
}

/** The client_id and secret of an RFC 6749 §2.3.1 Basic header (form-urlencoded, then base64). */
export function basicCredentials(
  header: string | undefined,
): { clientId?: string; secret?: string } | undefined {
  const match = header ? /^basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null
  if (!match?.[1]) return undefined
  const decoded = Buffer.from(match[1], 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  return {
    clientId: formDecode(colon < 0 ? decoded : decoded.slice(0, colon)),
    secret: colon < 0 ? undefined : formDecode(decoded.slice(colon + 1)),
  }
}

/**
 * The client_id of a Basic header. Keygate's clients are public: the secret is
 * ignored, and Swagger UI's empty `Basic Og==` means "no client".
 */
function basicClientId(header: string | undefined): string | undefined {
  return basicCredentials(header)?.clientId || undefined
}

/** The known-device cookie (services/sessions/known-device.ts). */
export const DEVICE_COOKIE = 'keygate_device'

/** The value of the known-device cookie, if the request carries one of a sane size. */
function deviceCookie(header: string | undefined): string | undefined {
  const match = header
    ? /(?:^|;\s*)keygate_device=([A-Za-z0-9_.-]{1,256})(?:;|$)/.exec(header)
    : null
  return match?.[1]
}

/** Who is calling: client id (form field or Basic header), user agent, address, device marker. */
export function clientContext(request: FastifyRequest, formClientId?: string): ClientContext {
  return {
    clientId: (formClientId ?? basicClientId(request.headers.authorization))?.slice(0, 255),
    userAgent: request.headers['user-agent'],
    ip: request.ip,
    device: deviceCookie(request.headers.cookie),
  }
}

/** Sets the known-device marker as an HttpOnly cookie (Secure when PUBLIC_URL is https). */
export function setDeviceCookie(reply: FastifyReply, device: string, secure: boolean): void {
  const maxAge = KNOWN_DEVICE_DAYS * 86_400
  const flags = `Path=/; Max-Age=${maxAge}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`
  // Appended, so a Set-Cookie already on the reply (the browser session's) stays.
  const before = reply.getHeader('set-cookie')
  const list = before === undefined ? [] : Array.isArray(before) ? before : [String(before)]
  reply.header('set-cookie', [...list, `${DEVICE_COOKIE}=${device}; ${flags}`])
}

/**
 * A sign-in's token response: the pair as the body, and the known-device
 * marker as a cookie that the client sends back on its next sign-in to this account.
 */
export function signInAnswer(reply: FastifyReply, result: SignIn, secure: boolean): TokenPair {
  const { device, ...pair } = result
  if (device !== undefined) setDeviceCookie(reply, device, secure)
  return pair
}
