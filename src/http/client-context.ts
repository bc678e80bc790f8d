import type { FastifyReply, FastifyRequest } from 'fastify'
import type { ClientContext, SignIn, TokenPair } from '../domain/session.js'
import type { ClientTokenAnswer } from '../services/oauth/token-endpoint.js'
import { KNOWN_DEVICE_DAYS } from '../services/sessions/known-device.js'

/** The known-device cookie (services/sessions/known-device.ts). */
export const DEVICE_COOKIE = 'keygate_device'

/** The value of the known-device cookie, if the request carries one of a sane size. */
function deviceCookie(header: string | undefined): string | undefined {
  const match = header
    ? /(?:^|;\s*)keygate_device=([A-Za-z0-9_.-]{1,256})(?:;|$)/.exec(header)
    : null
  return match?.[1]
}

/**
 * Who is calling: user agent, address, device marker. The client is not
 * taken from the request here: only the token endpoint authenticates one
 * (services/oauth/clients.ts), and every other sign-in is the built-in client.
 */
export function clientContext(request: FastifyRequest): ClientContext {
  return {
    userAgent: request.headers['user-agent'],
    ip: request.ip,
    device: deviceCookie(request.headers.cookie),
    requestId: request.id,
  }
}

/** The context of a signed-in caller's action: the client context, with the caller as actor. */
export function actorContext(request: FastifyRequest): ClientContext & { actorId?: string } {
  return { ...clientContext(request), actorId: request.auth?.user.id }
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
export function signInAnswer(reply: FastifyReply, result: SignIn, secure: boolean): TokenPair
export function signInAnswer(
  reply: FastifyReply,
  result: SignIn | ClientTokenAnswer,
  secure: boolean,
): TokenPair | ClientTokenAnswer
export function signInAnswer(
  reply: FastifyReply,
  result: SignIn | ClientTokenAnswer,
  secure: boolean,
): TokenPair | ClientTokenAnswer {
  if (!('device' in result)) return result
  const { device, ...pair } = result
  if (device !== undefined) setDeviceCookie(reply, device, secure)
  return pair
}
