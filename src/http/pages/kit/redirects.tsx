import type { FastifyReply, FastifyRequest } from 'fastify'
import { Notice, pageEnvOf, sendPage } from './layout.js'

/** A Keygate path with `return_to` carried along (when there is one). */
export const withReturnTo = (path: string, returnTo: string | undefined): string =>
  returnTo === undefined ? path : `${path}?${new URLSearchParams({ return_to: returnTo })}`

/**
 * After a form post: 303 See Other to a Keygate page (`path` passed
 * safeReturnTo or is Keygate's own), so a reload does not post again.
 */
export function redirectAfterPost(request: FastifyRequest, reply: FastifyReply, path: string) {
  return reply
    .code(303)
    .header('location', `${pageEnvOf(request).base}${path}`)
    .send()
}

/**
 * After a form post, to a Keygate path that may itself redirect to another
 * site (the authorization endpoint sending the browser on to a client).
 * Browsers apply CSP `form-action` to every redirect that follows a form
 * submission, so a 303 chain ending off-site would be blocked under
 * `form-action 'self'`. A page that moves on by `<meta http-equiv=refresh>`
 * starts a fresh navigation instead: no script, no loosened CSP, and a
 * "Continue" link for whoever has refresh turned off.
 */
export function continueTo(request: FastifyRequest, reply: FastifyReply, path: string) {
  const href = `${pageEnvOf(request).base}${path}`
  return sendPage(
    request,
    reply,
    { title: 'Signed in', head: <meta http-equiv="refresh" content={`0;url=${href}`} /> },
    <>
      <Notice kind="info">You are signed in.</Notice>
      <p>
        <a href={href}>Continue</a>
      </p>
    </>,
  )
}

/** Where a finished sign-in goes: the asked-for path, or the account page. */
export function afterSignIn(
  request: FastifyRequest,
  reply: FastifyReply,
  returnTo: string | undefined,
) {
  return returnTo === undefined
    ? redirectAfterPost(request, reply, '/account')
    : continueTo(request, reply, returnTo)
}
