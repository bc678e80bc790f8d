import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import type { Session } from '../../domain/session.js'
import type { User } from '../../domain/user.js'
import { NOTICES } from '../../errors.js'
import { clientContext } from '../client-context.js'
import type { RouteDeps } from '../route-config.js'
import { attempt, type ExpectedErrors } from './kit/form-errors.js'
import { Field, type FieldErrors, Form, Link, Notice, sendPage } from './kit/layout.js'
import { redirectAfterPost } from './kit/redirects.js'

const Text = Type.Optional(Type.String({ maxLength: 2048 }))
const PasswordIn = Type.Object({ password: Text })
const CodeIn = Type.Object({ code: Text })
const PasswordCodeIn = Type.Object({ password: Text, code: Text })
const NothingIn = Type.Object({})

type Signed = { session: Session; user: User }

/** What the account page's email and two-step sections show. */
export interface SecurityView {
  emailVerified: boolean
  /** the address a change link was sent to, not yet followed */
  pendingEmail?: string
  /** SMTP is configured: links can be mailed */
  mails: boolean
  totp: boolean
  recoveryCodesLeft: number
}

/** Field errors of one form of the sections, named by its action. */
export type SecurityErrors = Partial<Record<'setup' | 'disable' | 'recovery', FieldErrors>>

/** The sentences these sections' actions end on (the account page's `?done=`). */
export const SECURITY_DONE: Record<string, string> = {
  email: 'A link was sent to your new address. Your email changes when you follow it.',
  verify: NOTICES.VERIFICATION_REQUESTED,
  'two-step-on': 'Two-step verification is on.',
  'two-step-off': 'Two-step verification is off.',
}

export async function loadSecurityView({ services }: RouteDeps, user: User): Promise<SecurityView> {
  const [status, pendingEmail] = await Promise.all([
    services.factors.status(user),
    services.emailVerification.pendingChange(user),
  ])
  return {
    emailVerified: user.email_verified,
    pendingEmail,
    mails: services.emailVerification.mails,
    totp: status.totp,
    recoveryCodesLeft: status.recovery_codes_left,
  }
}

const CodeField = (props: { id: string; error?: string; autofocus?: boolean }) => (
  <Field
    id={props.id}
    name="code"
    label="Code from your authenticator app"
    autocomplete="one-time-code"
    inputmode="numeric"
    error={props.error}
    required
    autofocus={props.autofocus}
  />
)

const PasswordField = (props: { id: string; error?: string }) => (
  <Field
    id={props.id}
    name="password"
    label="Current password"
    type="password"
    autocomplete="current-password"
    error={props.error}
    required
  />
)

/** The account page's "Email address" and "Two-step verification" sections. */
export function SecuritySections(props: {
  user: User
  view: SecurityView
  errors?: SecurityErrors
}) {
  const { view } = props
  const errors = props.errors ?? {}
  const setup = errors.setup ?? {}
  const disable = errors.disable ?? {}
  const recovery = errors.recovery ?? {}
  return (
    <>
      <h2 id="email">Email address</h2>
      <p>
        {view.emailVerified
          ? 'Your email address is verified.'
          : 'Your email address is not verified yet.'}
      </p>
      {view.pendingEmail && (
        <Notice kind="info">
          Change pending: a link was sent to <strong>{view.pendingEmail}</strong>. Until it is
          followed, you keep signing in with {props.user.email}.
        </Notice>
      )}
      {!view.emailVerified && view.mails && (
        <Form action="/account/verify-email" label="Resend the verification link">
          <button type="submit" class="secondary">
            Resend the verification link
          </button>
        </Form>
      )}

      <h2 id="two-step">Two-step verification</h2>
      {view.totp ? (
        <>
          <p>
            On: each sign-in asks for a code from your authenticator app.{' '}
            {view.recoveryCodesLeft === 1
              ? '1 recovery code left.'
              : `${view.recoveryCodesLeft} recovery codes left.`}
          </p>
          <h3>New recovery codes</h3>
          <p class="hint">The old ones stop working.</p>
          <Form action="/account/two-step/recovery-codes" label="New recovery codes">
            <PasswordField id="recovery-password" error={recovery.password} />
            <CodeField id="recovery-code" error={recovery.code} />
            <button type="submit" class="secondary">
              Make new recovery codes
            </button>
          </Form>
          <h3>Turn off</h3>
          <Form action="/account/two-step/disable" label="Turn off two-step verification">
            <PasswordField id="disable-password" error={disable.password} />
            <CodeField id="disable-code" error={disable.code} />
            <button type="submit" class="secondary">
              Turn off two-step verification
            </button>
          </Form>
        </>
      ) : (
        <>
          <p>Off. Add a code from an authenticator app to each sign-in.</p>
          <Form action="/account/two-step/setup" label="Set up two-step verification">
            <PasswordField id="setup-password" error={setup.password} />
            <button type="submit">Set up two-step verification</button>
          </Form>
        </>
      )}
    </>
  )
}

/** The QR code as an image: a data: URL (CSP img-src allows it), never markup in the page. */
const qrImage = (svg: string) => `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`

function ConfirmForm(props: { error?: string }) {
  return (
    <Form action="/account/two-step/confirm" label="Confirm two-step verification">
      <CodeField id="confirm-code" error={props.error} autofocus />
      <button type="submit">Turn on</button>
    </Form>
  )
}

function RecoveryCodes(props: { codes: string[]; next: string }) {
  return (
    <>
      <Notice kind="info">
        Save these recovery codes somewhere safe. Each one signs you in once if you lose your
        authenticator app. They are shown only this time.
      </Notice>
      <ol class="codes">
        {props.codes.map((code) => (
          <li key={code}>
            <code>{code}</code>
          </li>
        ))}
      </ol>
      <p class="links">
        <Link href={props.next}>I have saved them</Link>
      </p>
    </>
  )
}

const WRONG_PASSWORD = 'The current password is incorrect.'
const WRONG_CODE = 'The code is incorrect or was already used.'

/** The routes of the sections, in the account page's plugin (its guard and renderer). */
export function accountSecurityRoutes(
  app: FastifyInstance,
  deps: RouteDeps,
  page: {
    signedIn(request: FastifyRequest, reply: FastifyReply): Promise<Signed | null>
    show(
      request: FastifyRequest,
      reply: FastifyReply,
      current: Signed,
      view: { security: SecurityErrors },
      status: number,
    ): Promise<unknown>
  },
) {
  const { services } = deps
  const { factors } = services
  const expected: ExpectedErrors = {
    WRONG_PASSWORD: ['password', WRONG_PASSWORD],
    WRONG_CODE: ['code', WRONG_CODE],
  }

  app.post(
    '/account/verify-email',
    { schema: { hide: true, body: NothingIn } },
    async (request, reply) => {
      const current = await page.signedIn(request, reply)
      if (!current) return reply
      // The same answer whatever the state: the mail goes in the background, spaced out per account.
      services.emailVerification.request(current.user, request.log, clientContext(request))
      return redirectAfterPost(request, reply, '/account?done=verify')
    },
  )

  app.post(
    '/account/two-step/setup',
    { schema: { hide: true, body: PasswordIn } },
    async (request, reply) => {
      const current = await page.signedIn(request, reply)
      if (!current) return reply
      const { password } = request.body as { password?: string }
      if (!password) {
        return page.show(
          request,
          reply,
          current,
          { security: { setup: { password: 'Enter your current password.' } } },
          400,
        )
      }
      const { ok, errors } = await attempt(
        factors.beginTotp(current.user, password, clientContext(request)),
        expected,
      )
      if (errors?.password)
        return page.show(request, reply, current, { security: { setup: errors } }, 400)
      // Already on (another tab turned it on): the account page says so.
      if (!ok) return redirectAfterPost(request, reply, '/account#two-step')
      return sendPage(
        request,
        reply,
        { title: 'Set up two-step verification' },
        <>
          <p>Scan this QR code with your authenticator app, then enter the code it shows.</p>
          <img
            class="qr"
            src={qrImage(ok.qr_svg)}
            alt="QR code to add your Keygate account to an authenticator app"
            width={200}
            height={200}
          />
          <p>
            Cannot scan it? Enter this key in the app: <code id="totp-secret">{ok.secret}</code>
          </p>
          <p class="muted">
            Or open this address with the app: <code id="otpauth-uri">{ok.otpauth_uri}</code>
          </p>
          <ConfirmForm />
        </>,
      )
    },
  )

  app.post(
    '/account/two-step/confirm',
    { schema: { hide: true, body: CodeIn } },
    async (request, reply) => {
      const current = await page.signedIn(request, reply)
      if (!current) return reply
      const code = (request.body as { code?: string }).code?.trim() ?? ''
      const again = (error: string) =>
        sendPage(
          request,
          reply,
          { title: 'Set up two-step verification', status: 400 },
          <>
            <ConfirmForm error={error} />
            <p class="links">
              Lost the QR code? <Link href="/account#two-step">Start again</Link>
            </p>
          </>,
        )
      if (code === '') return again('Enter the code.')
      const { ok, errors } = await attempt(
        factors.confirmTotp(current.user, code, clientContext(request)),
        { ...expected, TOTP_NOT_STARTED: ['', ''], TOTP_ALREADY_ENABLED: ['', ''] },
      )
      if (errors?.code) return again(WRONG_CODE)
      if (!ok) return redirectAfterPost(request, reply, '/account#two-step')
      return sendPage(
        request,
        reply,
        { title: 'Your recovery codes' },
        <>
          <Notice kind="info">Two-step verification is on.</Notice>
          <RecoveryCodes codes={ok.recovery_codes} next="/account?done=two-step-on" />
        </>,
      )
    },
  )

  app.post(
    '/account/two-step/disable',
    { schema: { hide: true, body: PasswordCodeIn } },
    async (request, reply) => {
      const current = await page.signedIn(request, reply)
      if (!current) return reply
      const body = request.body as { password?: string; code?: string }
      const again = (disable: FieldErrors) =>
        page.show(request, reply, current, { security: { disable } }, 400)
      if (!body.password) return again({ password: 'Enter your current password.' })
      if (!body.code) return again({ code: 'Enter the code.' })
      const { errors } = await attempt(
        factors.disableTotp(current.user, body.password, body.code.trim(), clientContext(request)),
        { ...expected, TOTP_NOT_ENABLED: ['', ''] },
      )
      if (errors?.password || errors?.code) return again(errors)
      return redirectAfterPost(request, reply, '/account?done=two-step-off')
    },
  )

  app.post(
    '/account/two-step/recovery-codes',
    { schema: { hide: true, body: PasswordCodeIn } },
    async (request, reply) => {
      const current = await page.signedIn(request, reply)
      if (!current) return reply
      const body = request.body as { password?: string; code?: string }
      const again = (recovery: FieldErrors) =>
        page.show(request, reply, current, { security: { recovery } }, 400)
      if (!body.password) return again({ password: 'Enter your current password.' })
      if (!body.code) return again({ code: 'Enter the code.' })
      const { ok, errors } = await attempt(
        factors.regenerateRecoveryCodes(
          current.user,
          body.password,
          body.code.trim(),
          clientContext(request),
        ),
        { ...expected, TOTP_NOT_ENABLED: ['', ''] },
      )
      if (errors?.password || errors?.code) return again(errors)
      if (!ok) return redirectAfterPost(request, reply, '/account#two-step')
      return sendPage(
        request,
        reply,
        { title: 'Your recovery codes' },
        <>
          <Notice kind="info">Your old recovery codes no longer work.</Notice>
          <RecoveryCodes codes={ok.recovery_codes} next="/account#two-step" />
        </>,
      )
    },
  )
}
