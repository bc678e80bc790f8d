import type { FastifyPluginAsync, FastifyReply } from 'fastify'
import { Type } from 'typebox'
import { isValidEmail } from '../../domain/user.js'
import { NOTICES } from '../../errors.js'
import type { RouteDeps } from '../route-config.js'
import { clearBrowserSessionCookie } from './kit/browser-session.js'
import { attempt } from './kit/form-errors.js'
import { Field, type FieldErrors, Form, Link, Notice, pageEnvOf, sendPage } from './kit/layout.js'

const Text = Type.Optional(Type.String({ maxLength: 2048 }))
const ForgotIn = Type.Object({ email: Text })
const ResetQuery = Type.Object({ token: Text })
const ResetIn = Type.Object({ new_password: Text, confirm_password: Text })

/** The reset token between the mailed link and the form: HttpOnly, only sent to /reset-password. */
const RESET_COOKIE = 'keygate_reset'

function ForgotForm(props: { email?: string; errors?: FieldErrors }) {
  return (
    <>
      <p>Enter the email of your account and we will send you a link to choose a new password.</p>
      <Form action="/forgot-password" label="Reset your password">
        <Field
          name="email"
          label="Email"
          type="email"
          autocomplete="email"
          value={props.email}
          error={props.errors?.email}
          required
        />
        <button type="submit">Send the link</button>
      </Form>
      <p class="links">
        <Link href="/signin">Back to sign in</Link>
      </p>
    </>
  )
}

function ResetForm(props: { errors?: FieldErrors }) {
  const errors = props.errors ?? {}
  return (
    <>
      {errors[''] && <Notice kind="error">{errors['']}</Notice>}
      <Form action="/reset-password" label="Choose a new password">
        <Field
          name="new_password"
          label="New password"
          type="password"
          autocomplete="new-password"
          error={errors.new_password}
          required
        />
        <Field
          name="confirm_password"
          label="Repeat the new password"
          type="password"
          autocomplete="new-password"
          error={errors.confirm_password}
          required
        />
        <button type="submit">Set password</button>
      </Form>
    </>
  )
}

const LinkExpired = () => (
  <>
    <Notice kind="error">This link is incomplete, expired or already used.</Notice>
    <p>
      <Link href="/forgot-password">Ask for a new link</Link>
    </p>
  </>
)

/**
 * /forgot-password (the reset service's enumeration-safe request) and
 * /reset-password, the page a mailed link opens. The link's token is moved
 * at once into an HttpOnly cookie scoped to /reset-password and the browser
 * is redirected to the bare path: the token leaves the address bar and
 * history, is never written into the page, and no Referer can carry it
 * (Referrer-Policy: no-referrer). Logs hold paths only. No JavaScript needed.
 */
export const passwordResetPages: FastifyPluginAsync<RouteDeps> = async (
  app,
  { config, services },
) => {
  const secure = config.publicUrl.startsWith('https:')
  const cookieOptions = (base: string) => ({
    httpOnly: true,
    sameSite: 'lax' as const,
    path: `${base}/reset-password`,
    secure,
  })
  const clearReset = (reply: FastifyReply, base: string) =>
    reply.clearCookie(RESET_COOKIE, cookieOptions(base))

  app.get('/forgot-password', { schema: { hide: true } }, async (request, reply) =>
    sendPage(request, reply, { title: 'Forgot your password?' }, <ForgotForm />),
  )

  app.post(
    '/forgot-password',
    { config: { rateLimited: true }, schema: { hide: true, body: ForgotIn } },
    async (request, reply) => {
      const email = (request.body as { email?: string }).email?.trim() ?? ''
      if (!isValidEmail(email)) {
        return sendPage(
          request,
          reply,
          { title: 'Forgot your password?', status: 400 },
          <ForgotForm email={email} errors={{ email: 'Enter a valid email address.' }} />,
        )
      }
      // Returns at once, whether or not the email has an account.
      services.passwordReset.request(email, request.log)
      return sendPage(
        request,
        reply,
        { title: 'Check your email' },
        <>
          <Notice kind="info">{NOTICES.RESET_REQUESTED}</Notice>
          <p>The link works once and expires in {config.passwordResetExpireMinutes} minutes.</p>
        </>,
      )
    },
  )

  app.get(
    '/reset-password',
    { schema: { hide: true, querystring: ResetQuery } },
    async (request, reply) => {
      const { base } = pageEnvOf(request)
      const { token } = request.query as { token?: string }
      if (token !== undefined) {
        reply.setCookie(RESET_COOKIE, token, {
          ...cookieOptions(base),
          maxAge: config.passwordResetExpireMinutes * 60,
        })
        return reply.code(303).header('location', `${base}/reset-password`).send()
      }
      const held = request.cookies[RESET_COOKIE] !== undefined
      return sendPage(
        request,
        reply,
        { title: 'Choose a new password' },
        held ? <ResetForm /> : <LinkExpired />,
      )
    },
  )

  app.post('/reset-password', { schema: { hide: true, body: ResetIn } }, async (request, reply) => {
    const { base } = pageEnvOf(request)
    const body = request.body as { new_password?: string; confirm_password?: string }
    const token = request.cookies[RESET_COOKIE]
    const title = 'Choose a new password'
    if (token === undefined)
      return sendPage(request, reply, { title, status: 400 }, <LinkExpired />)
    const again = (errors: FieldErrors) =>
      sendPage(request, reply, { title, status: 400 }, <ResetForm errors={errors} />)
    if (!body.new_password) return again({ new_password: 'Choose a new password.' })
    if (body.new_password !== body.confirm_password) {
      return again({ confirm_password: 'The two passwords differ.' })
    }
    const { errors } = await attempt(services.passwordReset.confirm(token, body.new_password), {
      INVALID_RESET_TOKEN: ['expired', ''],
    })
    if (errors?.expired !== undefined) {
      clearReset(reply, base)
      return sendPage(request, reply, { title, status: 400 }, <LinkExpired />)
    }
    if (errors) return again(errors)
    // Every session of the account ended, this browser's too.
    clearReset(reply, base)
    clearBrowserSessionCookie(reply, config.publicUrl)
    return sendPage(
      request,
      reply,
      { title: 'Password changed' },
      <>
        <Notice kind="info">
          Your password has been changed. Every session was signed out: sign in again.
        </Notice>
        <p>
          <Link href="/signin">Sign in</Link>
        </p>
      </>,
    )
  })
}
