import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { bearerToken } from '../plugins/bearer-guard.js'
import { SECURITY } from '../plugins/openapi.js'
import type { RouteDeps } from '../route-config.js'
import { ErrorOut, ValidationErrorOut } from '../schemas/common.js'
import { RevocationsPageOut, RevocationsQuery } from '../schemas/revocations.js'

/** The revocation feed (SPEC §11) under /api/v1/auth, for resource servers' verifiers. */
export const revocationRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { services }) => {
  const { introspection, revocationFeed } = services
  // Held long-polls answer at once when the server shuts down, so closing never waits on them.
  const closing = new AbortController()
  app.addHook('preClose', async () => closing.abort())

  app.get(
    '/revocations',
    {
      onRequest: async (request) => introspection.authorizeCaller(bearerToken(request)),
      config: { noStore: true },
      schema: {
        tags: ['auth'],
        operationId: 'auth_revocations',
        summary: 'Follow revoked sessions and users (long-poll)',
        description:
          'For resource servers, authenticated as introspection is (INTROSPECTION_SECRET or a superuser token). Entries after `after`, oldest first; with none, the request is held up to `wait` seconds (at most 30) and answered when one is committed, else with no items and the same cursor. 410 when the feed cannot continue from `after` (entries after it were pruned, or it is from another database): start again without `after`.',
        security: SECURITY,
        querystring: RevocationsQuery,
        response: {
          200: RevocationsPageOut,
          401: ErrorOut,
          403: ErrorOut,
          410: ErrorOut,
          422: ValidationErrorOut,
        },
      },
    },
    async (request, reply) => {
      const gone = AbortSignal.any([closing.signal, abortOnClose(reply.raw)])
      const { after, wait } = request.query
      return revocationFeed.page(after === undefined ? undefined : Number(after), wait, gone)
    },
  )
}

/** Aborts when the client goes away, so a held request stops waiting. */
function abortOnClose(res: { once(event: 'close', fn: () => void): unknown }): AbortSignal {
  const ac = new AbortController()
  res.once('close', () => ac.abort())
  return ac.signal
}
