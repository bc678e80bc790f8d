// Per-route flags read by the plugins. Declared once, here.
declare module 'fastify' {
  interface FastifyContextConfig {
    /** an RFC 6749 endpoint: credential failures are answered as invalid_grant (plugins/errors.ts) */
    oauth?: boolean
    /** counts toward the per-client request limit over the auth endpoints (SPEC §4) */
    rateLimited?: boolean
    /** an HTML page: helmet's full header set instead of the API's (plugins/security.ts) */
    page?: boolean
  }
}

export {}
