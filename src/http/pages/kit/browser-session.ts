import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Session } from '../../../domain/session.js'
import type { User } from '../../../domain/user.js'
import { browserSessionCookie } from '../../../services/sessions/browser-sessions.js'
import type { RouteDeps } from '../../route-config.js'

/**
 * The browser session of a request: `{ session, user }` when its cookie opens
 * a live session of an active user, else null. This is how the authorization
 * endpoint learns who is signed in (services/sessions/browser-sessions.ts).
 * It never authenticates an API call.
 */
export function currentBrowserSession(
  request: FastifyRequest,
  { config, services }: RouteDeps,
): Promise<{ session: Session; user: User } | null> {
  return services.browserSessions.current(request.cookies[browserSessionCookie(config.publicUrl)])
}

/**
 * Sets the session cookie: HttpOnly, SameSite=Lax (sent on the top-level
 * navigation a client starts, not on cross-site posts or frames), Path=/,
 * and Secure with the __Host- name under an https PUBLIC_URL. No Max-Age: it
 * ends with the browser; the server-side session has its own limits.
 */
export function setBrowserSessionCookie(
  reply: FastifyReply,
  publicUrl: string,
  value: string,
): void {
  reply.setCookie(browserSessionCookie(publicUrl), value, {
    httpOnly: true,
    sameSite: 'lax',
    path: '/',
    secure: publicUrl.startsWith('https:'),
  })
}

export function clearBrowserSessionCookie(reply: FastifyReply, publicUrl: string): void {
  reply.clearCookie(browserSessionCookie(publicUrl), {
    httpOnly: true,
    sameSite: 'lax',
    path: '/',
    secure: publicUrl.startsWith('https:'),
  })
}

/**
 * A `return_to` Keygate may follow: a path on Keygate itself. One leading
 * `/` and not `//` (a scheme-relative URL leaves the site), no backslash
 * (browsers read `/\evil` as `//evil`), no control characters or spaces
 * (stripped by URL parsers, so `/\t/evil` would become `//evil`). Anything
 * else is ignored, never followed (no open redirect).
 */
export function safeReturnTo(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 2048) return undefined
  if (!value.startsWith('/') || value.startsWith('//')) return undefined
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\\\u0000-\u0020\u007f]/.test(value)) return undefined
  // The parser is the last word: the path must stay on the same origin.
  const parsed = new URL(value, 'http://keygate.invalid')
  return parsed.origin === 'http://keygate.invalid' ? value : undefined
}
