import type { FastifyReply, FastifyRequest } from 'fastify'
import type { AuditSource } from '../../../domain/audit.js'
import type { Session } from '../../../domain/session.js'
import type { User } from '../../../domain/user.js'
import { clientContext } from '../../client-context.js'
import type { RouteDeps } from '../../route-config.js'
import { currentBrowserSession } from '../kit/browser-session.js'
import { sendErrorPage } from '../kit/error-page.js'
import { redirectAfterPost, withReturnTo } from '../kit/redirects.js'

interface SignedAdmin {
  session: Session
  user: User
}

// Set by the guard for the request it let through; a WeakMap so nothing outlives the request.
const admins = new WeakMap<FastifyRequest, SignedAdmin>()

/**
 * The onRequest guard of every /admin route: the browser session must be
 * live and its user an active superuser, checked on each request (a demoted
 * or deactivated admin, or a revoked session, loses the console at once).
 * It runs before the CSRF check and before any id is parsed or looked up,
 * so a non-superuser learns nothing about which users or clients exist.
 */
export function adminGuard(deps: RouteDeps) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const current = await currentBrowserSession(request, deps)
    if (!current) {
      // After sign-in, back to the page asked for; a post cannot be replayed, so to the console.
      const back = request.method === 'GET' ? request.url : '/admin'
      return redirectAfterPost(request, reply, withReturnTo('/signin', back))
    }
    if (!current.user.is_superuser) {
      return sendErrorPage(
        request,
        reply,
        403,
        'Only administrators can use the admin console.',
        'Not allowed',
      )
    }
    admins.set(request, current)
  }
}

/** The signed-in superuser of a request the guard let through. */
export function adminOf(request: FastifyRequest): SignedAdmin {
  const admin = admins.get(request)
  // Unreachable: every admin route sits behind adminGuard.
  if (!admin) throw new Error('admin route without the admin guard')
  return admin
}

/** The audit source of an admin's action: who acts, from where. */
export function adminSource(request: FastifyRequest): AuditSource {
  const { userAgent, ip, requestId } = clientContext(request)
  return { userAgent, ip, requestId, actorId: adminOf(request).user.id }
}
