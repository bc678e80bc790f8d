import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { OIDC_PATHS } from '../../services/oauth/discovery.js'
import type { LogoutOutcome, LogoutParams } from '../../services/oidc/rp-logout.js'
import { clientContext } from '../client-context.js'
import { clearBrowserSessionCookie, currentBrowserSession } from '../pages/kit/browser-session.js'
import { Form, Link, sendPage } from '../pages/kit/layout.js'
import type { RouteDeps } from '../route-config.js'

const Text = Type.Optional(Type.String({ maxLength: 4096 }))
const LogoutIn = Type.Object({
  id_token_hint: Text,
  client_id: Text,
  post_logout_redirect_uri: Text,
  state: Text,
})
const CONFIRM_PATH = `${OIDC_PATHS.logout}/confirm`

/** What the confirmation form carries along; never the (invalid) hint. */
const carried = (p: LogoutParams) =>
  Object.entries({
    client_id: p.client_id,
    post_logout_redirect_uri: p.post_logout_redirect_uri,
    state: p.state,
  }).filter((e): e is [string, string] => e[1] !== undefined)

function finish(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: RouteDeps,
  done: LogoutOutcome,
) {
  if (done.kind !== 'done') throw new Error('not a finished logout')
  if (done.here) clearBrowserSessionCookie(reply, deps.config.publicUrl)
  const base = new URL(deps.config.publicUrl).pathname.replace(/\/+$/, '')
  const location = done.location ?? `${base}/signed-out`
  return reply
    .code(request.method === 'POST' ? 303 : 302)
    .header('location', location)
    .send()
}

/**
 * RP-initiated logout (OIDC RP-Initiated Logout 1.0) as hosted pages: GET
 * signs out at once with a valid id_token_hint, else asks; the confirmation
 * posts to /oauth/logout/confirm, behind the pages' CSRF token and Origin check.
 */
export const logoutPages: FastifyPluginAsync<RouteDeps> = async (app, deps) => {
  const { services } = deps

  app.get(
    OIDC_PATHS.logout,
    { schema: { hide: true, querystring: LogoutIn } },
    async (request, reply) => {
      const params = request.query as LogoutParams
      const browser = await currentBrowserSession(request, deps)
      const outcome = await services.rpLogout.request(params, browser, clientContext(request))
      if (outcome.kind === 'done') return finish(request, reply, deps, outcome)
      const target = outcome.params.post_logout_redirect_uri
      return sendPage(
        request,
        reply,
        // The confirmation may end in a redirect to the client (CSP form-action follows redirects).
        {
          title: 'Sign out',
          ...(target && URL.canParse(target) && { formAction: [new URL(target).origin] }),
        },
        <>
          <p>
            {outcome.clientName
              ? `${outcome.clientName} asks you to sign out of Keygate.`
              : 'Do you want to sign out of Keygate?'}{' '}
            Signing out ends your Keygate session in this browser and the sessions of the apps you
            signed in to with it.
          </p>
          <Form action={CONFIRM_PATH} label="Sign out">
            {carried(outcome.params).map(([name, value]) => (
              <input type="hidden" name={name} value={value} />
            ))}
            <button type="submit">Sign out</button>
          </Form>
          <p class="links">
            <Link href="/account">Stay signed in</Link>
          </p>
        </>,
      )
    },
  )

  app.post(CONFIRM_PATH, { schema: { hide: true, body: LogoutIn } }, async (request, reply) => {
    const browser = await currentBrowserSession(request, deps)
    const outcome = await services.rpLogout.confirm(
      request.body as LogoutParams,
      browser,
      clientContext(request),
    )
    return finish(request, reply, deps, outcome)
  })
}

/**
 * POST /oauth/logout from the relying party's own site (RP-Initiated Logout
 * §2 allows POST). Outside the pages' CSRF check, since it comes from another
 * origin; without a valid hint it only forwards to the confirmation page.
 */
export const rpLogoutRoutes: FastifyPluginAsync<RouteDeps> = async (app, deps) => {
  app.post(
    OIDC_PATHS.logout,
    { config: { page: true }, schema: { hide: true, body: LogoutIn } },
    async (request, reply) => {
      const params = request.body as LogoutParams
      const browser = await currentBrowserSession(request, deps)
      const outcome = await deps.services.rpLogout.request(params, browser, clientContext(request))
      if (outcome.kind === 'done') return finish(request, reply, deps, outcome)
      const base = new URL(deps.config.publicUrl).pathname.replace(/\/+$/, '')
      const query = new URLSearchParams(carried(outcome.params))
      return reply.code(303).header('location', `${base}${OIDC_PATHS.logout}?${query}`).send()
    },
  )
}
