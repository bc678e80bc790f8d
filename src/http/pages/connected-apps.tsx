import type { FastifyPluginAsync } from 'fastify'
import { Type } from 'typebox'
import type { ConnectedApp } from '../../domain/consent.js'
import { SCOPE_DESCRIPTIONS } from '../../domain/scopes.js'
import { clientContext } from '../client-context.js'
import type { RouteDeps } from '../route-config.js'
import { currentBrowserSession } from './kit/browser-session.js'
import { Form } from './kit/layout.js'
import { redirectAfterPost, withReturnTo } from './kit/redirects.js'

const AppParams = Type.Object({ client_id: Type.String({ minLength: 1, maxLength: 255 }) })

/** The account page's "Connected apps": each consented app, what it may do, and "Remove". */
export function ConnectedApps(props: { apps: ConnectedApp[] }) {
  return (
    <>
      <h2 id="apps">Connected apps</h2>
      {props.apps.length === 0 ? (
        <p class="muted">No app has access to your account.</p>
      ) : (
        <ul class="apps">
          {props.apps.map((a) => (
            <li key={a.client_id}>
              <strong>{a.name}</strong>
              <ul>
                {a.scope.map((s) => (
                  <li key={s}>{SCOPE_DESCRIPTIONS[s]}</li>
                ))}
              </ul>
              <Form
                action={`/account/apps/${encodeURIComponent(a.client_id)}/remove`}
                label={`Remove ${a.name}`}
              >
                <button type="submit" class="secondary">
                  Remove
                </button>
              </Form>
            </li>
          ))}
        </ul>
      )}
    </>
  )
}

/**
 * POST /account/apps/{client_id}/remove: withdraws the consent and revokes
 * every token the app holds for the user (services/oidc/consents.ts), as
 * `DELETE /api/v1/users/me/apps/{client_id}` does.
 */
export const connectedAppsPages: FastifyPluginAsync<RouteDeps> = async (app, deps) => {
  app.post(
    '/account/apps/:client_id/remove',
    { schema: { hide: true, params: AppParams } },
    async (request, reply) => {
      const current = await currentBrowserSession(request, deps)
      if (!current) return redirectAfterPost(request, reply, withReturnTo('/signin', '/account'))
      const { client_id } = request.params as { client_id: string }
      // An app without consent is the 404 page.
      await deps.services.consents.withdraw(current.user, client_id, clientContext(request))
      return redirectAfterPost(request, reply, '/account?done=app')
    },
  )
}
