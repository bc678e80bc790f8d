import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { ERRORS } from '../../errors.js'
import { OIDC_PATHS } from '../../services/oauth/discovery.js'
import {
  type AuthorizeParams,
  toAuthorizeParams,
} from '../../services/oidc/authorization-request.js'
import { currentBrowserSession } from '../pages/kit/browser-session.js'
import { sendErrorPage } from '../pages/kit/error-page.js'
import type { RouteDeps } from '../route-config.js'

/** A parsed form body as name/value pairs; anything but text (a JSON body's objects) is dropped. */
const formEntries = (body: unknown): [string, string][] =>
  typeof body !== 'object' || body === null
    ? []
    : Object.entries(body).flatMap(([k, v]) =>
        [v]
          .flat()
          .filter((value): value is string => typeof value === 'string')
          .map((value): [string, string] => [k, value]),
      )

/**
 * The authorization endpoint (OIDC Core §3.1.2.1: GET and POST). Outside the
 * hosted pages' CSRF check on purpose: a relying party may post the request
 * from its own site, and nothing here acts on the user's behalf except issue
 * a code to a registered redirect URI, bound to the client's PKCE challenge.
 */
export const authorizeRoutes: FastifyPluginAsync<RouteDeps> = async (app, deps) => {
  const { services } = deps

  async function answer(request: FastifyRequest, reply: FastifyReply, params: AuthorizeParams) {
    const browser = await currentBrowserSession(request, deps)
    const outcome = await services.authorize.authorize(params, browser)
    if (outcome.kind === 'page') {
      return sendErrorPage(
        request,
        reply,
        ERRORS[outcome.error].status,
        ERRORS[outcome.error].detail,
      )
    }
    // 303 after a POST, so the browser follows with a GET (RFC 9110 §15.4.4).
    return reply
      .code(request.method === 'POST' ? 303 : 302)
      .header('cache-control', 'no-store')
      .header('location', outcome.location)
      .send()
  }

  const schema = { hide: true }
  const config = { page: true }
  // No HEAD twin: a prefetch or link preview must not mint codes.
  app.get(OIDC_PATHS.authorize, { schema, config, exposeHeadRoute: false }, (request, reply) => {
    const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : ''
    return answer(request, reply, toAuthorizeParams(new URLSearchParams(query)))
  })
  app.post(OIDC_PATHS.authorize, { schema, config }, (request, reply) =>
    answer(request, reply, toAuthorizeParams(formEntries(request.body))),
  )
}
