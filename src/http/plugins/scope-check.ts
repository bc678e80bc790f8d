import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Scope } from '../../domain/scopes.js'
import { insufficientScope } from '../../errors.js'
import { hooksOf } from '../route-config.js'

/** A route as the scope check saw it registered. */
export interface RouteScope {
  method: string
  url: string
  scope: Scope | undefined
}

const routesOf = new WeakMap<FastifyInstance, RouteScope[]>()

/** Every route of the app with the scope it declared (for tests and docs). */
export const routeScopes = (app: FastifyInstance): readonly RouteScope[] => routesOf.get(app) ?? []

/**
 * The one scope check (SPEC §6, RFC 6750 §3.1): a route declares
 * `config: { scope }`, and the check runs after the route's own onRequest
 * hooks (the bearer guard), before the body is validated, so a token
 * without the scope learns nothing about the body's rules. A route whose
 * guard let an anonymous caller through (optional bearer, an introspection
 * secret) has no token scope to check.
 */
export default fp(async function scopeCheckPlugin(app: FastifyInstance) {
  const routes: RouteScope[] = []
  routesOf.set(app, routes)
  app.addHook('onRoute', (route) => {
    const scope = route.config?.scope
    for (const method of [route.method].flat()) routes.push({ method, url: route.url, scope })
    if (scope === undefined) return
    const check = async (request: FastifyRequest) => {
      if (request.auth && !request.auth.scope.includes(scope)) throw insufficientScope(scope)
    }
    route.onRequest = [...hooksOf(route.onRequest), check]
  })
})
