import type { FastifyPluginAsync } from 'fastify'
import type { RouteDeps } from '../../route-config.js'
import { redirectAfterPost } from '../kit/redirects.js'
import { adminGuard } from './admin-session.js'
import { adminAuditPages } from './audit.js'
import { adminClientPages } from './clients.js'
import { adminUserPages } from './users.js'

/**
 * The admin console under /admin. The guard is added here, once, for every
 * route the areas register below it (Fastify hooks reach a plugin's
 * children), so a new admin page cannot forget it.
 */
export const adminConsole: FastifyPluginAsync<RouteDeps> = async (app, deps) => {
  app.addHook('onRequest', adminGuard(deps))
  app.get('/admin', { schema: { hide: true } }, async (request, reply) =>
    redirectAfterPost(request, reply, '/admin/users'),
  )
  for (const area of [adminUserPages, adminClientPages, adminAuditPages])
    await app.register(area, deps)
}
