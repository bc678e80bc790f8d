import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { AuthContext } from '../../domain/session.js'
import { KeygateError } from '../../errors.js'
import type { AuthService } from '../../services/sessions/authentication.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** the caller, set by the guards below on protected routes */
    auth: AuthContext | null
  }
}

export default fp(async function authPlugin(app: FastifyInstance) {
  app.decorateRequest('auth', null)
})

/** The token of an `Authorization: Bearer …` header (scheme matched case-insensitively). */
export function bearerToken(request: FastifyRequest): string {
  const header = request.headers.authorization
  const match = header ? /^bearer(?:\s+(.*))?$/is.exec(header.trim()) : null
  // RFC 6750 §3.1: no credentials at all is a plain challenge, without an error code.
  if (!match) throw new KeygateError('NOT_AUTHENTICATED')
  return match[1]?.trim() ?? ''
}

/** The guards that routes declare, as FastAPI routes declare `CurrentUser`. */
export function createGuards(auth: AuthService) {
  async function requireUser(request: FastifyRequest) {
    request.auth = await auth.authenticate(bearerToken(request))
  }
  async function requireSuperuser(request: FastifyRequest) {
    await requireUser(request)
    if (!request.auth?.user.is_superuser) throw new KeygateError('FORBIDDEN')
  }
  /**
   * Public routes that show more to a signed-in caller: no Authorization header
   * is an anonymous caller, but credentials that are sent are checked as on
   * every protected route (a bad token is a 401, never a silent downgrade).
   */
  async function optionalUser(request: FastifyRequest) {
    if (request.headers.authorization !== undefined) await requireUser(request)
  }
  return { requireUser, requireSuperuser, optionalUser }
}

/** The authenticated caller; only called from routes that declared a guard. */
export function caller(request: FastifyRequest): AuthContext {
  if (!request.auth) throw new KeygateError('NOT_AUTHENTICATED')
  return request.auth
}
