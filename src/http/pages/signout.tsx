import type { FastifyPluginAsync } from 'fastify'
import { clientContext } from '../client-context.js'
import type { RouteDeps } from '../route-config.js'
import { clearBrowserSessionCookie, currentBrowserSession } from './kit/browser-session.js'
import { Link, Notice, sendPage } from './kit/layout.js'
import { redirectAfterPost } from './kit/redirects.js'

/** POST /signout ends this browser's session and every session opened from it; /signed-out says so. */
export const signoutPages: FastifyPluginAsync<RouteDeps> = async (app, deps) => {
  const { config, services } = deps

  app.post('/signout', { schema: { hide: true } }, async (request, reply) => {
    const current = await currentBrowserSession(request, deps)
    if (current) await services.browserSessions.signOut(current.session.id, clientContext(request))
    clearBrowserSessionCookie(reply, config.publicUrl)
    return redirectAfterPost(request, reply, '/signed-out')
  })

  app.get('/signed-out', { schema: { hide: true } }, async (request, reply) =>
    sendPage(
      request,
      reply,
      { title: 'Signed out' },
      <>
        <Notice kind="info">You are signed out of Keygate in this browser.</Notice>
        <p>
          <Link href="/signin">Sign in again</Link>
        </p>
      </>,
    ),
  )
}
