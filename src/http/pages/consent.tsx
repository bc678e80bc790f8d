import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { SCOPE_DESCRIPTIONS, type Scope } from '../../domain/scopes.js'
import { ERRORS } from '../../errors.js'
import type { PendingConsent } from '../../services/oidc/consent.js'
import { clientContext } from '../client-context.js'
import type { RouteDeps } from '../route-config.js'
import { currentBrowserSession } from './kit/browser-session.js'
import { sendErrorPage } from './kit/error-page.js'
import { Form, sendPage } from './kit/layout.js'

// Sealed requests are bounded by consent-requests.ts; this only keeps junk out.
const Sealed = Type.Optional(Type.String({ maxLength: 32_768 }))
const ConsentQuery = Type.Object({ request: Sealed })
const ConsentIn = Type.Object({
  request: Sealed,
  decision: Type.Optional(Type.String({ maxLength: 16 })),
})

/**
 * The origin a redirect to `uri` lands on, as CSP form-action names it: the
 * browser applies form-action to the redirect after the post, so the client's
 * own origin (or a native app's scheme) must be allowed on this page.
 */
function formTarget(uri: string): string {
  const url = new URL(uri)
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : url.protocol
}

function ConsentPage(props: { pending: PendingConsent; sealed: string; email: string }) {
  const { request, scope, added } = props.pending
  const name = request.client.name
  const host = new URL(request.redirectUri).host || new URL(request.redirectUri).protocol
  // Marked only when the app asks for more than before: everything is new the first time.
  const widening = added.length > 0 && added.length < scope.length
  const asked = (s: Scope) => (widening && added.includes(s) ? ' (new)' : '')
  return (
    <>
      <p>
        <strong>{name}</strong> wants to use your Keygate account <strong>{props.email}</strong>.
      </p>
      {scope.length > 0 ? (
        <>
          <p id="consent-scopes">If you allow it, {name} will be able to:</p>
          <ul class="scopes" aria-labelledby="consent-scopes">
            {scope.map((s) => (
              <li key={s} data-scope={s}>
                {SCOPE_DESCRIPTIONS[s]}
                {asked(s)}
              </li>
            ))}
          </ul>
        </>
      ) : (
        <p>It asks for nothing beyond knowing that you signed in.</p>
      )}
      <p class="muted">
        You will be sent back to {host}. You can remove its access at any time on your account page.
      </p>
      <Form action="/consent" label={`Allow ${name} to use your account`}>
        <input type="hidden" name="request" value={props.sealed} />
        <button type="submit" name="decision" value="allow">
          Allow
        </button>
        <button type="submit" name="decision" value="deny" class="secondary">
          Deny
        </button>
      </Form>
    </>
  )
}

/**
 * /consent: the page the authorization endpoint sends a browser to when a
 * third-party client asks for more than the user consented to (or for
 * prompt=consent). The request travels sealed to this browser session
 * (services/oidc/consent-requests.ts) and is checked again on every use.
 */
export const consentPages: FastifyPluginAsync<RouteDeps> = async (app, deps) => {
  const { services } = deps
  const expired = (request: FastifyRequest, reply: FastifyReply) =>
    sendErrorPage(request, reply, 400, ERRORS.CONSENT_REQUEST_EXPIRED.detail)

  app.get(
    '/consent',
    { schema: { hide: true, querystring: ConsentQuery } },
    async (request, reply) => {
      const { request: sealed } = request.query as { request?: string }
      const browser = await currentBrowserSession(request, deps)
      const pending = browser && (await services.consent.pending(sealed, browser))
      if (!browser || !pending || sealed === undefined) return expired(request, reply)
      return sendPage(
        request,
        reply,
        {
          title: `Allow ${pending.request.client.name}?`,
          formAction: [formTarget(pending.request.redirectUri)],
        },
        <ConsentPage pending={pending} sealed={sealed} email={browser.user.email} />,
      )
    },
  )

  app.post('/consent', { schema: { hide: true, body: ConsentIn } }, async (request, reply) => {
    const body = request.body as { request?: string; decision?: string }
    if (body.decision !== 'allow' && body.decision !== 'deny') {
      return sendErrorPage(request, reply, 400)
    }
    const browser = await currentBrowserSession(request, deps)
    const outcome =
      browser &&
      (await services.consent.answer(body.request, browser, body.decision, clientContext(request)))
    if (!outcome) return expired(request, reply)
    if (outcome.kind === 'page') {
      return sendErrorPage(
        request,
        reply,
        ERRORS[outcome.error].status,
        ERRORS[outcome.error].detail,
      )
    }
    // 303: the browser follows with a GET (RFC 9110 §15.4.4), to the client or to a sign-in.
    return reply
      .code(303)
      .header('cache-control', 'no-store')
      .header('location', outcome.location)
      .send()
  })
}
