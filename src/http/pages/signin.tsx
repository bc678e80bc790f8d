import type { FastifyPluginAsync } from 'fastify'
import { Type } from 'typebox'
import { clientContext, setDeviceCookie } from '../client-context.js'
import type { RouteDeps } from '../route-config.js'
import { currentBrowserSession, safeReturnTo, setBrowserSessionCookie } from './browser-session.js'
import { attempt } from './form-errors.js'
import { Field, type FieldErrors, Form, Link, Notice, sendPage } from './layout.js'
import { afterSignIn, withReturnTo } from './redirects.js'

const Text = Type.Optional(Type.String({ maxLength: 2048 }))
const SigninQuery = Type.Object({ return_to: Text, login_hint: Text })
const SigninIn = Type.Object({ username: Text, password: Text, return_to: Text })

// One sentence for an unknown account and a wrong password alike (SPEC §8).
const WRONG = 'The email, username or password is incorrect.'

function SigninForm(props: { username?: string; returnTo?: string; errors?: FieldErrors }) {
  const errors = props.errors ?? {}
  return (
    <>
      {errors[''] && <Notice kind="error">{errors['']}</Notice>}
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
        { title: 'Sign in' },
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
          { title: 'Sign in', status },
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
        },
      )
      if (!signedIn) return again(errors, errors[''] === WRONG ? 400 : 403)
      setBrowserSessionCookie(reply, config.publicUrl, signedIn.cookie)
      setDeviceCookie(reply, signedIn.device, config.publicUrl.startsWith('https:'))
      return afterSignIn(request, reply, returnTo)
    },
  )
}
