import type { FastifyPluginAsync } from 'fastify'
import { Type } from 'typebox'
import { isValidEmail, isValidUsername } from '../../domain/user.js'
import { clientContext } from '../client-context.js'
import type { RouteDeps } from '../route-config.js'
import {
  currentBrowserSession,
  safeReturnTo,
  setBrowserSessionCookie,
} from './kit/browser-session.js'
import { attempt } from './kit/form-errors.js'
import { Field, type FieldErrors, Form, Link, Notice, sendPage } from './kit/layout.js'
import { afterSignIn, withReturnTo } from './kit/redirects.js'

const Text = Type.Optional(Type.String({ maxLength: 2048 }))
const SignupQuery = Type.Object({ return_to: Text })
const SignupIn = Type.Object({ email: Text, username: Text, password: Text, return_to: Text })

interface SignupValues {
  email?: string
  username?: string
  returnTo?: string
}

function SignupForm(props: SignupValues & { errors?: FieldErrors }) {
  const errors = props.errors ?? {}
  return (
    <>
      {errors[''] && <Notice kind="error">{errors['']}</Notice>}
      <Form action="/signup" label="Create an account">
        {props.returnTo && <input type="hidden" name="return_to" value={props.returnTo} />}
        <Field
          name="email"
          label="Email"
          type="email"
          autocomplete="email"
          value={props.email}
          error={errors.email}
          required
        />
        <Field
          name="username"
          label="Username (optional)"
          autocomplete="username"
          hint="3 to 32 letters, digits, dots, dashes or underscores."
          value={props.username}
          error={errors.username}
        />
        <Field
          name="password"
          label="Password"
          type="password"
          autocomplete="new-password"
          error={errors.password}
          required
        />
        <button type="submit">Create account</button>
      </Form>
      <p class="links">
        <Link href={withReturnTo('/signin', props.returnTo)}>Already have an account? Sign in</Link>
      </p>
    </>
  )
}

/** The signup API's own format rules (schemas/users.ts), as sentences next to the fields. */
function formatErrors(email: string, username: string): FieldErrors {
  const errors: FieldErrors = {}
  if (!isValidEmail(email)) errors.email = 'Enter a valid email address.'
  if (username !== '' && !isValidUsername(username)) {
    errors.username = 'Use 3 to 32 letters, digits, dots, dashes or underscores.'
  }
  return errors
}

/** GET/POST /signup: creates the account (the signup API's rules and throttle), then signs in. */
export const signupRoutes: FastifyPluginAsync<RouteDeps> = async (app, { config, services }) => {
  app.get(
    '/signup',
    { schema: { hide: true, querystring: SignupQuery } },
    async (request, reply) => {
      const { return_to } = request.query as { return_to?: string }
      return sendPage(
        request,
        reply,
        { title: 'Create an account' },
        <SignupForm returnTo={safeReturnTo(return_to)} />,
      )
    },
  )

  app.post(
    '/signup',
    { config: { rateLimited: true }, schema: { hide: true, body: SignupIn } },
    async (request, reply) => {
      const body = request.body as {
        email?: string
        username?: string
        password?: string
        return_to?: string
      }
      const values = {
        email: body.email?.trim() ?? '',
        username: body.username?.trim() ?? '',
        returnTo: safeReturnTo(body.return_to),
      }
      const again = (errors: FieldErrors, status: number) =>
        sendPage(
          request,
          reply,
          { title: 'Create an account', status },
          <SignupForm {...values} errors={errors} />,
        )
      const invalid = formatErrors(values.email, values.username)
      if (!body.password) invalid.password = 'Choose a password.'
      if (Object.keys(invalid).length > 0) return again(invalid, 400)

      const ctx = clientContext(request)
      const { ok: user, errors } = await attempt(
        services.users.signup(
          { email: values.email, username: values.username || null, password: body.password ?? '' },
          {},
          ctx,
        ),
        {
          EMAIL_TAKEN: ['email', 'An account already uses this email.'],
          USERNAME_TAKEN: ['username', 'This username is taken.'],
        },
      )
      if (!user) return again(errors, errors.email || errors.username ? 409 : 400)
      const previous = await currentBrowserSession(request, { config, services })
      const { cookie } = await services.browserSessions.signIn(
        user,
        { amr: ['pwd'] },
        ctx,
        previous?.session,
      )
      setBrowserSessionCookie(reply, config.publicUrl, cookie)
      return afterSignIn(request, reply, values.returnTo)
    },
  )
}
