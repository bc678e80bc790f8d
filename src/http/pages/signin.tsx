import type { FastifyPluginAsync } from 'fastify'
import { Type } from 'typebox'
import { NOTICES } from '../../errors.js'
import { clientContext, setDeviceCookie } from '../client-context.js'
import type { RouteDeps } from '../route-config.js'
import {
  currentBrowserSession,
  safeReturnTo,
  setBrowserSessionCookie,
} from './kit/browser-session.js'
import { attempt } from './kit/form-errors.js'
import { Field, type FieldErrors, Form, Link, Notice, sendPage } from './kit/layout.js'
import { afterSignIn, withReturnTo } from './kit/redirects.js'
import { PasskeyButton, PasskeysScript } from './passkey-pages.js'
import { startSecondStep } from './signin-second-step.js'

const Text = Type.Optional(Type.String({ maxLength: 2048 }))
const SigninQuery = Type.Object({ return_to: Text, login_hint: Text })
const SigninIn = Type.Object({ username: Text, password: Text, return_to: Text })
const ResendIn = Type.Object({ username: Text })

// One sentence for an unknown account and a wrong password alike (SPEC §8).
const WRONG = 'The email, username or password is incorrect.'
// REQUIRE_VERIFIED_EMAIL: said only after a correct password (SPEC §9).
const UNVERIFIED = 'Your email address is not verified yet. Follow the link we mailed you.'

/** "Resend the link" for an unverified account (the answer is the same whatever the state). */
function ResendVerification(props: { username: string }) {
  return (
    <Form action="/signin/resend-verification" label="Resend the verification link">
      <input type="hidden" name="username" value={props.username} />
      <button type="submit" class="secondary">
        Resend the link
      </button>
    </Form>
  )
}

function SigninForm(props: { username?: string; returnTo?: string; errors?: FieldErrors }) {
  const errors = props.errors ?? {}
  return (
    <>
      {errors[''] && <Notice kind="error">{errors['']}</Notice>}
      {errors[''] === UNVERIFIED && props.username && (
        <ResendVerification username={props.username} />
      )}
      <Form action="/signin" label="Sign in">
        {props.returnTo && <input type="hidden" name="return_to" value={props.returnTo} />}
        <Field
          name="username"
          label="Email or username"
          autocomplete="username"
          value={props.username}
          error={errors.username}
          required
          autofocus={!props.username}
        />
        <Field
          name="password"
          label="Password"
          type="password"
          autocomplete="current-password"
          error={errors.password}
          required
          autofocus={Boolean(props.username)}
        />
        <button type="submit">Sign in</button>
      </Form>
      <PasskeyButton
        action="authenticate"
        options="/passkeys/signin/options"
        verify={withReturnTo('/passkeys/signin', props.returnTo)}
        label="Sign in with a passkey"
        status="passkey-signin-status"
        class="secondary"
      />
      <p id="passkey-signin-status" role="status" />
      <p class="links">
        <Link href="/forgot-password">Forgot your password?</Link>
        <br />
        <Link href={withReturnTo('/signup', props.returnTo)}>Create an account</Link>
      </p>
    </>
  )
}

/** GET/POST /signin: the hosted sign-in form; on success, back to `return_to` or the account page. */
export const signinRoutes: FastifyPluginAsync<RouteDeps> = async (app, deps) => {
  const { config, services } = deps

  app.get(
    '/signin',
    { schema: { hide: true, querystring: SigninQuery } },
    async (request, reply) => {
      const query = request.query as { return_to?: string; login_hint?: string }
      return sendPage(
        request,
        reply,
        { title: 'Sign in', head: <PasskeysScript /> },
        <SigninForm username={query.login_hint} returnTo={safeReturnTo(query.return_to)} />,
      )
    },
  )

  app.post(
    '/signin',
    // The token endpoint's per-client request budget; the password check adds its per-account one.
    { config: { rateLimited: true }, schema: { hide: true, body: SigninIn } },
    async (request, reply) => {
      const body = request.body as { username?: string; password?: string; return_to?: string }
      const returnTo = safeReturnTo(body.return_to)
      const again = (errors: FieldErrors, status: number) =>
        sendPage(
          request,
          reply,
          { title: 'Sign in', status, head: <PasskeysScript /> },
          <SigninForm username={body.username} returnTo={returnTo} errors={errors} />,
        )
      if (!body.username || !body.password) {
        return again(
          {
            username: body.username ? undefined : 'Enter your email or username.',
            password: body.password ? undefined : 'Enter your password.',
          },
          400,
        )
      }
      const ctx = clientContext(request)
      const previous = await currentBrowserSession(request, deps)
      // Expected refusals re-render the form; throttling goes to the 429 page.
      const { ok: signedIn, errors } = await attempt(
        services.browserSessions.signInWithPassword(
          body.username,
          body.password,
          ctx,
          previous?.session,
        ),
        {
          INVALID_CREDENTIALS: ['', WRONG],
          INACTIVE_USER: ['', 'This account has been deactivated.'],
          EMAIL_NOT_VERIFIED: ['', UNVERIFIED],
        },
      )
      if (!signedIn) return again(errors, errors[''] === WRONG ? 400 : 403)
      // An account with a second factor: no browser session until the code.
      if (signedIn.secondFactor) {
        return startSecondStep(request, reply, config.publicUrl, signedIn.challenge, returnTo)
      }
      setBrowserSessionCookie(reply, config.publicUrl, signedIn.signedIn.cookie)
      setDeviceCookie(reply, signedIn.signedIn.device, config.publicUrl.startsWith('https:'))
      return afterSignIn(request, reply, returnTo)
    },
  )

  app.post(
    '/signin/resend-verification',
    { config: { rateLimited: true }, schema: { hide: true, body: ResendIn } },
    async (request, reply) => {
      const username = (request.body as { username?: string }).username?.trim() ?? ''
      // In the background, and per account spaced out: the answer says nothing.
      if (username !== '')
        services.emailVerification.requestForLogin(username, request.log, clientContext(request))
      return sendPage(
        request,
        reply,
        { title: 'Check your email' },
        <>
          <Notice kind="info">{NOTICES.VERIFICATION_REQUESTED}</Notice>
          <p>The link works once and expires in 24 hours.</p>
          <p class="links">
            <Link href="/signin">Back to sign in</Link>
          </p>
        </>,
      )
    },
  )
}
