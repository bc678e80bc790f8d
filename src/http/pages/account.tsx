import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import type { ConnectedApp } from '../../domain/consent.js'
import type { Passkey } from '../../domain/passkey.js'
import type { Session } from '../../domain/session.js'
import type { User } from '../../domain/user.js'
import { isValidEmail, isValidUsername } from '../../domain/user.js'
import { browserCaller } from '../../services/sessions/browser-sessions.js'
import { clientContext } from '../client-context.js'
import type { RouteDeps } from '../route-config.js'
import {
  accountSecurityRoutes,
  loadSecurityView,
  SECURITY_DONE,
  type SecurityErrors,
  SecuritySections,
  type SecurityView,
} from './account-security.js'
import { ConnectedApps } from './connected-apps.js'
import {
  clearBrowserSessionCookie,
  currentBrowserSession,
  setBrowserSessionCookie,
} from './kit/browser-session.js'
import { attempt } from './kit/form-errors.js'
import { Field, type FieldErrors, Form, Notice, sendPage } from './kit/layout.js'
import { redirectAfterPost, withReturnTo } from './kit/redirects.js'
import { PASSKEY_DONE, PasskeysScript, PasskeysSection } from './passkey-pages.js'

const Text = Type.Optional(Type.String({ maxLength: 2048 }))
const AccountQuery = Type.Object({ done: Text })
const ProfileIn = Type.Object({ email: Text, username: Text, current_password: Text })
const PasswordIn = Type.Object({ current_password: Text, new_password: Text })
const SessionParams = Type.Object({ id: Type.String({ format: 'uuid' }) })

type Signed = { session: Session; user: User }

// What a finished action says on the page it redirects to (Post/Redirect/Get).
const DONE: Record<string, string> = {
  profile: 'Your profile was saved.',
  password: 'Your password was changed. Every other session was signed out.',
  session: 'That session was signed out.',
  ...PASSKEY_DONE,
  ...SECURITY_DONE,
  app: 'That app no longer has access to your account.',
}

const when = (d: Date) => d.toISOString().replace('T', ' ').slice(0, 16)

interface AccountView {
  user: User
  passkeys: Passkey[]
  /** signed in recently enough to add a passkey */
  fresh: boolean
  current: string
  sessions: (Session & { current: boolean })[]
  apps: ConnectedApp[]
  done?: string
  profile?: { email?: string; username?: string; errors: FieldErrors }
  password?: FieldErrors
  /** email and two-step verification (account-security.tsx) */
  securityView: SecurityView
  security?: SecurityErrors
}

function AccountPage(props: AccountView) {
  const profile = props.profile ?? {
    email: props.user.email,
    username: props.user.username ?? '',
    errors: {},
  }
  const pw = props.password ?? {}
  return (
    <>
      {props.done && <Notice kind="info">{props.done}</Notice>}
      <p>
        Signed in as <strong>{props.user.email}</strong>.
      </p>

      <h2 id="profile">Profile</h2>
      {profile.errors[''] && <Notice kind="error">{profile.errors['']}</Notice>}
      <Form action="/account/profile" label="Profile">
        <Field
          name="email"
          label="Email"
          type="email"
          autocomplete="email"
          value={profile.email}
          error={profile.errors.email}
          required
        />
        <Field
          name="username"
          label="Username"
          autocomplete="username"
          hint="Optional: 3 to 32 letters, digits, dots, dashes or underscores."
          value={profile.username}
          error={profile.errors.username}
        />
        <Field
          id="profile-current-password"
          name="current_password"
          label="Current password"
          type="password"
          autocomplete="current-password"
          hint="Needed only to change your email."
          error={profile.errors.current_password}
        />
        <button type="submit">Save profile</button>
      </Form>

      <h2 id="password">Password</h2>
      <Form action="/account/password" label="Change password">
        <Field
          id="password-current-password"
          name="current_password"
          label="Current password"
          type="password"
          autocomplete="current-password"
          error={pw.current_password}
          required
        />
        <Field
          name="new_password"
          label="New password"
          type="password"
          autocomplete="new-password"
          error={pw.new_password}
          required
        />
        <button type="submit">Change password</button>
      </Form>

      <SecuritySections user={props.user} view={props.securityView} errors={props.security} />
      <PasskeysSection passkeys={props.passkeys} fresh={props.fresh} />

      <h2 id="sessions">Sessions</h2>
      <ul class="sessions">
        {props.sessions.map((s) => (
          <li key={s.id}>
            <strong>{s.current ? 'This browser' : s.client_id}</strong>
            <br />
            <span class="muted">
              {s.user_agent ?? 'Unknown device'} · {s.ip ?? 'unknown address'} · signed in{' '}
              {when(s.created_at)} UTC · last used {when(s.last_used_at)} UTC
            </span>
            {!s.current && (
              <Form action={`/account/sessions/${s.id}/signout`} label="Sign out this session">
                <button type="submit" class="secondary">
                  Sign out
                </button>
              </Form>
            )}
          </li>
        ))}
      </ul>
      <ConnectedApps apps={props.apps} />
      <Form action="/signout" label="Sign out of this browser">
        <button type="submit">Sign out of this browser</button>
      </Form>
    </>
  )
}

/**
 * /account: profile, password and sessions of the browser session's user.
 * Its actions call the services directly with that user; no bearer token is
 * involved, and the cookie alone never opens the API.
 */
export const accountPages: FastifyPluginAsync<RouteDeps> = async (app, deps) => {
  const { config, services } = deps

  /** The signed-in browser, or a redirect to the sign-in page that returns here. */
  async function signedIn(request: FastifyRequest, reply: FastifyReply): Promise<Signed | null> {
    const current = await currentBrowserSession(request, deps)
    if (!current) await redirectAfterPost(request, reply, withReturnTo('/signin', '/account'))
    return current
  }

  async function show(
    request: FastifyRequest,
    reply: FastifyReply,
    current: Signed,
    view: Partial<AccountView> = {},
    status = 200,
  ) {
    const caller = browserCaller(current)
    const sessions = await services.sessions.list(caller)
    const passkeys = await services.passkeys.list(current.user.id)
    const securityView = await loadSecurityView(deps, current.user)
    const apps = await services.consents.list(current.user)
    return sendPage(
      request,
      reply,
      { title: 'Your account', status, head: <PasskeysScript /> },
      <AccountPage
        user={current.user}
        current={current.session.id}
        sessions={sessions}
        passkeys={passkeys}
        fresh={services.passkeys.canRegister(current.session.auth_time)}
        securityView={securityView}
        apps={apps}
        {...view}
      />,
    )
  }

  accountSecurityRoutes(app, deps, { signedIn, show })

  app.get(
    '/account',
    { schema: { hide: true, querystring: AccountQuery } },
    async (request, reply) => {
      const current = await signedIn(request, reply)
      if (!current) return reply
      const { done } = request.query as { done?: string }
      return show(request, reply, current, { done: done === undefined ? undefined : DONE[done] })
    },
  )

  app.post(
    '/account/profile',
    { schema: { hide: true, body: ProfileIn } },
    async (request, reply) => {
      const current = await signedIn(request, reply)
      if (!current) return reply
      const body = request.body as { email?: string; username?: string; current_password?: string }
      const email = body.email?.trim() ?? ''
      const username = body.username?.trim() ?? ''
      const invalid: FieldErrors = {}
      if (!isValidEmail(email)) invalid.email = 'Enter a valid email address.'
      if (username !== '' && !isValidUsername(username)) {
        invalid.username = 'Use 3 to 32 letters, digits, dots, dashes or underscores.'
      }
      const again = (errors: FieldErrors) =>
        show(request, reply, current, { profile: { email, username, errors } }, 400)
      if (Object.keys(invalid).length > 0) return again(invalid)
      const caller = browserCaller(current)
      const { ok: saved, errors } = await attempt(
        services.account.updateProfile(
          caller,
          { email, username: username || null, current_password: body.current_password },
          clientContext(request),
        ),
        {
          CURRENT_PASSWORD_REQUIRED: [
            'current_password',
            'Enter your current password to change your email.',
          ],
          WRONG_PASSWORD: ['current_password', 'The current password is incorrect.'],
          EMAIL_TAKEN: ['email', 'An account already uses this email.'],
          USERNAME_TAKEN: ['username', 'This username is taken.'],
        },
      )
      if (!saved) return again(errors)
      // With SMTP a new address waits for its link (SPEC §9): the old one stays until then.
      const pending = saved.email !== email
      return redirectAfterPost(request, reply, `/account?done=${pending ? 'email' : 'profile'}`)
    },
  )

  app.post(
    '/account/password',
    { schema: { hide: true, body: PasswordIn } },
    async (request, reply) => {
      const current = await signedIn(request, reply)
      if (!current) return reply
      const body = request.body as { current_password?: string; new_password?: string }
      const again = (errors: FieldErrors) =>
        show(request, reply, current, { password: errors }, 400)
      if (!body.current_password) return again({ current_password: 'Enter your current password.' })
      if (!body.new_password) return again({ new_password: 'Choose a new password.' })
      const { ok, errors } = await attempt(
        services.browserSessions.changePassword(
          current,
          body.current_password,
          body.new_password,
          clientContext(request),
        ),
        { WRONG_PASSWORD: ['current_password', 'The current password is incorrect.'] },
      )
      if (!ok) return again(errors)
      setBrowserSessionCookie(reply, config.publicUrl, ok.cookie)
      return redirectAfterPost(request, reply, '/account?done=password')
    },
  )

  app.post(
    '/account/sessions/:id/signout',
    { schema: { hide: true, params: SessionParams } },
    async (request, reply) => {
      const current = await signedIn(request, reply)
      if (!current) return reply
      const { id } = request.params as { id: string }
      const caller = browserCaller(current)
      // Ends the session and what it opened; someone else's or a dead one is the 404 page.
      await services.sessions.revoke(caller, id)
      if (id === current.session.id) {
        clearBrowserSessionCookie(reply, config.publicUrl)
        return redirectAfterPost(request, reply, '/signed-out')
      }
      return redirectAfterPost(request, reply, '/account?done=session')
    },
  )
}
