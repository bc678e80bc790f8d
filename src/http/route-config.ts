import type { Config } from '../config.js'
import type { Services } from '../deps.js'
import type { Scope } from '../domain/scopes.js'

// Per-route flags read by the plugins, and how the plugins attach per-route work.
declare module 'fastify' {
  interface FastifyContextConfig {
    /** counts toward the per-client request limit over the auth endpoints (SPEC §4) */
    rateLimited?: boolean
    /** an HTML page: helmet's full header set instead of the API's (plugins/response-headers.ts) */
    page?: boolean
    /** answers hold secrets: `Cache-Control: no-store` (plugins/response-headers.ts) */
    noStore?: boolean
    /** a write counted against the caller's per-account rate (plugins/throttle-hooks.ts) */
    accountWrites?: boolean
    /** the scope the caller's token must carry (plugins/scope-check.ts; SPEC §6) */
    scope?: Scope
  }
}

/** What a route plugin receives: the settings and the services, nothing lower. */
export interface RouteDeps {
  config: Config
  services: Services
}

/**
 * A route's own hooks of one kind as a list (Fastify allows one, a list, or
 * none), so an onRoute hook can put per-route work in front of them.
 */
export function hooksOf<T>(hooks: T | T[] | undefined): T[] {
  return hooks === undefined ? [] : Array.isArray(hooks) ? hooks : [hooks]
}
