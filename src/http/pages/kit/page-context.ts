import type {
  FastifyError,
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
} from 'fastify'
import { isDatabaseUnavailable } from '../../../db/unavailable.js'
import { KeygateError } from '../../../errors.js'
import { HOSTED_PAGE_HEADERS } from '../../plugins/response-headers.js'
import type { RouteDeps } from '../../route-config.js'
import { sendErrorPage } from './error-page.js'

/** The cookie holding the browser's CSRF secret (services/crypto/csrf.ts). */
export const csrfCookie = (publicUrl: string): string =>
  publicUrl.startsWith('https:') ? '__Host-keygate_csrf' : 'keygate_csrf'

export interface HostedPagesOptions extends RouteDeps {
  /** the page route plugins; each gets the settings and the services */
  pages: FastifyPluginAsync<RouteDeps>[]
}

/**
 * The one context every hosted page is registered in, so no page can forget
 * its protections: the page headers (strict CSP, no framing, no-store), the
 * CSRF secret cookie and each request's form token, and on EVERY POST the
 * `Origin` check and the `csrf_token` check before the body is even
 * validated. Errors become a human page, never JSON or a stack. A page that
 * must accept posts from other sites (the authorization endpoint's
 * form_post) does not belong here.
 */
export const hostedPages: FastifyPluginAsync<HostedPagesOptions> = async (app, opts) => {
  const { config, services } = opts
  const { csrf } = services
  const publicUrl = new URL(config.publicUrl)
  const origin = publicUrl.origin
  const base = publicUrl.pathname.replace(/\/+$/, '')
  const cookieName = csrfCookie(config.publicUrl)
  const secure = publicUrl.protocol === 'https:'

  app.decorateRequest('pageEnv', null)

  app.addHook('onRequest', (request, reply, done) => {
    reply.headers(HOSTED_PAGE_HEADERS)
    let secret = request.cookies[cookieName]
    if (!csrf.isSecret(secret)) {
      secret = csrf.newSecret()
      reply.setCookie(cookieName, secret, { httpOnly: true, sameSite: 'lax', path: '/', secure })
    }
    request.pageEnv = { base, csrf: csrf.tokenFor(secret) }
    done()
  })

  /**
   * A form post (any unsafe method) is accepted only from Keygate's own origin (`Origin`, or
   * `Sec-Fetch-Site: same-origin` from a browser that sent none or `null`) and with
   * the token signed for this browser's secret. A fresh secret made for this
   * very request (no cookie came) can match no token.
   */
  const checkForm = (
    request: FastifyRequest,
    _reply: FastifyReply,
    done: HookHandlerDoneFunction,
  ) => {
    // Every method that can change something; pages only post, but a later one may not.
    if (request.method === 'GET' || request.method === 'HEAD') return done()
    // `Origin: null` comes from pages under a no-referrer policy; the browser's
    // own Sec-Fetch-Site, which no page can set, then says where the post came from.
    const sentOrigin = request.headers.origin
    const sameOrigin =
      sentOrigin === undefined || sentOrigin === 'null'
        ? request.headers['sec-fetch-site'] === 'same-origin'
        : sentOrigin === origin
    const secret = request.cookies[cookieName]
    const token = (request.body as Record<string, unknown> | undefined)?.csrf_token
    if (!sameOrigin || !csrf.verify(secret, token)) return done(new KeygateError('CSRF_REFUSED'))
    done()
  }
  app.addHook('preValidation', checkForm)

  app.setErrorHandler((err: FastifyError, request, reply) => {
    let status = 500
    if (err instanceof KeygateError) {
      status = err.statusCode
      // Retry-After and the like; never a bearer challenge on a page.
      const { 'WWW-Authenticate': _, ...headers } = err.headers
      reply.headers(headers)
    } else if (isDatabaseUnavailable(err)) {
      status = 503
      reply.header('retry-after', '5')
    } else if (err.validation) status = 400
    else if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      status = err.statusCode
    }
    if (status >= 500) {
      request.log.error(
        { err, method: request.method, url: request.url.split('?')[0] },
        'page failed',
      )
    }
    return sendErrorPage(request, reply, status)
  })

  for (const page of opts.pages) await app.register(page, { config, services })
}
