import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { clientContext } from '../client-context.js'
import type { RouteDeps } from '../route-config.js'
import { attempt } from './kit/form-errors.js'
import { Form, Link, Notice, pageEnvOf, sendPage } from './kit/layout.js'

const Text = Type.Optional(Type.String({ maxLength: 2048 }))
const VerifyQuery = Type.Object({ token: Text })
const VerifyIn = Type.Object({})

/** The link's token between the mailed link and the button: HttpOnly, only sent to /verify-email. */
const VERIFY_COOKIE = 'keygate_verify_email'
const TITLE = 'Confirm your email address'
// The link lives 24 hours (services/accounts/email-verification.ts); the cookie no longer.
const COOKIE_MAX_AGE_SECONDS = 24 * 60 * 60

const LinkDead = () => (
  <>
    <Notice kind="error">This link is incomplete, expired or already used.</Notice>
    <p>
      Ask for a new one from <Link href="/account">your account</Link>.
    </p>
  </>
)

/**
 * /verify-email, the page a verification or email-change link opens. As
 * with /reset-password, the token moves at once into an HttpOnly cookie
 * scoped to this path and the browser is sent to the bare path: it leaves
 * the address bar and history and is never written into the page. Opening
 * the link changes nothing: mail scanners and link previews follow links, so
 * the confirmation is a button (a POST with the form token).
 */
export const verifyEmailPages: FastifyPluginAsync<RouteDeps> = async (
  app,
  { config, services },
) => {
  const secure = config.publicUrl.startsWith('https:')
  const cookieOptions = (request: FastifyRequest) => ({
    httpOnly: true,
    // Lax: the link is opened from a mail, a cross-site navigation.
    sameSite: 'lax' as const,
    path: `${pageEnvOf(request).base}/verify-email`,
    secure,
  })
  const forget = (request: FastifyRequest, reply: FastifyReply) =>
    reply.clearCookie(VERIFY_COOKIE, cookieOptions(request))

  app.get(
    '/verify-email',
    { schema: { hide: true, querystring: VerifyQuery } },
    async (request, reply) => {
      const { token } = request.query as { token?: string }
      if (token !== undefined) {
        reply.setCookie(VERIFY_COOKIE, token, {
          ...cookieOptions(request),
          maxAge: COOKIE_MAX_AGE_SECONDS,
        })
        return reply
          .code(303)
          .header('location', `${pageEnvOf(request).base}/verify-email`)
          .send()
      }
      if (request.cookies[VERIFY_COOKIE] === undefined) {
        return sendPage(request, reply, { title: TITLE }, <LinkDead />)
      }
      return sendPage(
        request,
        reply,
        { title: TITLE },
        <>
          <p>Confirm that this email address belongs to your Keygate account.</p>
          <Form action="/verify-email" label={TITLE}>
            <button type="submit">Confirm my email address</button>
          </Form>
        </>,
      )
    },
  )

  app.post('/verify-email', { schema: { hide: true, body: VerifyIn } }, async (request, reply) => {
    const token = request.cookies[VERIFY_COOKIE]
    if (token === undefined) {
      return sendPage(request, reply, { title: TITLE, status: 400 }, <LinkDead />)
    }
    const { ok: user } = await attempt(
      services.emailVerification.confirm(token, clientContext(request)),
      {
        INVALID_EMAIL_TOKEN: ['', ''],
        // A change link whose new address another account took meanwhile.
        EMAIL_TAKEN: ['', ''],
      },
    )
    forget(request, reply)
    if (!user) return sendPage(request, reply, { title: TITLE, status: 400 }, <LinkDead />)
    return sendPage(
      request,
      reply,
      { title: 'Email address confirmed' },
      <>
        <Notice kind="info">
          Your email address is confirmed: <strong>{user.email}</strong>.
        </Notice>
        <p>
          <Link href="/account">Go to your account</Link>
        </p>
      </>,
    )
  })
}
