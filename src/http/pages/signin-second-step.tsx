import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { MFA_TOKEN_TTL_MS } from '../../services/factors/factors.js'
import type { BrowserSignIn } from '../../services/sessions/browser-sessions.js'
import { clientContext, setDeviceCookie } from '../client-context.js'
import type { RouteDeps } from '../route-config.js'
import {
  currentBrowserSession,
  safeReturnTo,
  setBrowserSessionCookie,
} from './kit/browser-session.js'
import { attempt } from './kit/form-errors.js'
import { Field, Form, Link, Notice, pageEnvOf, sendPage } from './kit/layout.js'
import { afterSignIn, withReturnTo } from './kit/redirects.js'
import { PasskeyButton, PasskeysScript } from './passkey-pages.js'

const Text = Type.Optional(Type.String({ maxLength: 2048 }))
const StepQuery = Type.Object({ return_to: Text, method: Text })
const StepIn = Type.Object({ code: Text, recovery_code: Text, return_to: Text })

/** The path of the second step: where the sign-in form sends an account with a factor. */
export const SECOND_STEP_PATH = '/signin/second-step'

const TITLE = 'Two-step verification'

/**
 * The pending sign-in's challenge (an mfa challenge, services/factors): a
 * secret, so an HttpOnly cookie, never a URL or a page. SameSite=Strict and
 * scoped to /signin: no other page and no other site's request carries it.
 * It lives as long as the challenge (5 minutes).
 */
const CHALLENGE_COOKIE = 'keygate_signin_challenge'

function challengeCookieOptions(request: FastifyRequest, secure: boolean) {
  return {
    httpOnly: true,
    sameSite: 'strict' as const,
    path: `${pageEnvOf(request).base}/signin`,
    secure,
  }
}

/** After a correct password on an account with a factor: hold the challenge, go to the step. */
export function startSecondStep(
  request: FastifyRequest,
  reply: FastifyReply,
  publicUrl: string,
  challenge: string,
  returnTo: string | undefined,
) {
  reply.setCookie(CHALLENGE_COOKIE, challenge, {
    ...challengeCookieOptions(request, publicUrl.startsWith('https:')),
    maxAge: MFA_TOKEN_TTL_MS / 1000,
  })
  return reply
    .code(303)
    .header('location', `${pageEnvOf(request).base}${withReturnTo(SECOND_STEP_PATH, returnTo)}`)
    .send()
}

/**
 * The challenge this browser holds, read from its cookie (the passkey second
 * factor completes the same one: services.browserSessions.completeSecondFactor).
 */
export const pendingChallengeOf = (request: FastifyRequest): string | undefined =>
  request.cookies[CHALLENGE_COOKIE]

/**
 * Ends the pending sign-in in this browser and signs it in: the challenge
 * cookie goes, the session cookie and the known-device marker come, and the
 * browser returns where the sign-in started. Shared with the passkey route.
 */
export function finishSecondStep(
  request: FastifyRequest,
  reply: FastifyReply,
  publicUrl: string,
  signedIn: BrowserSignIn & { device: string },
  returnTo: string | undefined,
) {
  settleSecondStep(request, reply, publicUrl, signedIn)
  return afterSignIn(request, reply, returnTo)
}

/**
 * The cookies of a finished second step: the challenge goes, the session and
 * the device marker come (the passkey route answers JSON, not a redirect).
 */
export function settleSecondStep(
  request: FastifyRequest,
  reply: FastifyReply,
  publicUrl: string,
  signedIn: BrowserSignIn & { device: string },
) {
  const secure = publicUrl.startsWith('https:')
  reply.clearCookie(CHALLENGE_COOKIE, challengeCookieOptions(request, secure))
  setBrowserSessionCookie(reply, publicUrl, signedIn.cookie)
  setDeviceCookie(reply, signedIn.device, secure)
}

function CodeForm(props: {
  returnTo?: string
  recovery: boolean
  error?: string
  /** the account has a passkey: offer it as the second factor */
  passkey?: boolean
}) {
  return (
    <>
      {props.passkey && (
        <>
          <PasskeyButton
            action="authenticate"
            options={`${SECOND_STEP_PATH}/passkey/options`}
            verify={withReturnTo(`${SECOND_STEP_PATH}/passkey`, props.returnTo)}
            label="Use a passkey"
            status="passkey-second-step-status"
          />
          <p id="passkey-second-step-status" role="status" />
        </>
      )}
      {props.recovery ? (
        <p>Enter one of the recovery codes you saved when you set up two-step verification.</p>
      ) : (
        <p>Enter the 6-digit code from your authenticator app.</p>
      )}
      <Form action={SECOND_STEP_PATH} label={TITLE}>
        {props.returnTo && <input type="hidden" name="return_to" value={props.returnTo} />}
        {props.recovery ? (
          <Field
            name="recovery_code"
            label="Recovery code"
            autocomplete="off"
            error={props.error}
            required
            autofocus
          />
        ) : (
          <Field
            name="code"
            label="Code"
            autocomplete="one-time-code"
            inputmode="numeric"
            error={props.error}
            required
            autofocus
          />
        )}
        <button type="submit">Verify</button>
      </Form>
      <p class="links">
        {props.recovery ? (
          <Link href={withReturnTo(SECOND_STEP_PATH, props.returnTo)}>
            Use your authenticator app
          </Link>
        ) : (
          <Link
            href={`${SECOND_STEP_PATH}?${new URLSearchParams({
              method: 'recovery',
              ...(props.returnTo !== undefined && { return_to: props.returnTo }),
            })}`}
          >
            Use a recovery code
          </Link>
        )}
        <br />
        <Link href={withReturnTo('/signin', props.returnTo)}>Start again</Link>
      </p>
    </>
  )
}

const Expired = (props: { returnTo?: string }) => (
  <>
    <Notice kind="error">This sign-in has expired or was stopped. Sign in again.</Notice>
    <p>
      <Link href={withReturnTo('/signin', props.returnTo)}>Sign in</Link>
    </p>
  </>
)

/**
 * GET/POST /signin/second-step: after a correct password on an account with
 * a factor, the TOTP code (or a recovery code) completes the sign-in. The
 * browser session exists only after this step. Throttled like the API's
 * second step; the challenge dies after 5 wrong codes or 5 minutes.
 */
export const secondStepPages: FastifyPluginAsync<RouteDeps> = async (app, deps) => {
  const { config, services } = deps
  const secure = config.publicUrl.startsWith('https:')
  const hasPasskey = async (userId: string) => (await services.passkeys.list(userId)).length > 0

  app.get(
    SECOND_STEP_PATH,
    { schema: { hide: true, querystring: StepQuery } },
    async (request, reply) => {
      const query = request.query as { return_to?: string; method?: string }
      const returnTo = safeReturnTo(query.return_to)
      const user = await services.browserSessions.pendingSecondFactor(pendingChallengeOf(request))
      if (!user) {
        reply.clearCookie(CHALLENGE_COOKIE, challengeCookieOptions(request, secure))
        return sendPage(request, reply, { title: TITLE }, <Expired returnTo={returnTo} />)
      }
      return sendPage(
        request,
        reply,
        { title: TITLE, head: <PasskeysScript /> },
        <CodeForm
          returnTo={returnTo}
          recovery={query.method === 'recovery'}
          passkey={await hasPasskey(user.id)}
        />,
      )
    },
  )

  app.post(
    SECOND_STEP_PATH,
    // The token endpoint's per-client budget; each code adds the account's code budget.
    { config: { rateLimited: true }, schema: { hide: true, body: StepIn } },
    async (request, reply) => {
      const body = request.body as { code?: string; recovery_code?: string; return_to?: string }
      const returnTo = safeReturnTo(body.return_to)
      const challenge = pendingChallengeOf(request)
      const recovery = body.recovery_code !== undefined
      const expired = () => {
        reply.clearCookie(CHALLENGE_COOKIE, challengeCookieOptions(request, secure))
        return sendPage(
          request,
          reply,
          { title: TITLE, status: 400 },
          <Expired returnTo={returnTo} />,
        )
      }
      if (challenge === undefined) return expired()
      const again = async (error: string) => {
        // A dead challenge (5 wrong codes, 5 minutes) starts over.
        const user = await services.browserSessions.pendingSecondFactor(challenge)
        if (!user) return expired()
        return sendPage(
          request,
          reply,
          { title: TITLE, status: 400, head: <PasskeysScript /> },
          <CodeForm
            returnTo={returnTo}
            recovery={recovery}
            error={error}
            passkey={await hasPasskey(user.id)}
          />,
        )
      }
      const given = (recovery ? body.recovery_code : body.code)?.trim() ?? ''
      if (given === '') return again(recovery ? 'Enter a recovery code.' : 'Enter the code.')
      // A code that is not six digits is taken for a recovery code typed in the code field.
      const proof = recovery || !/^\d{6}$/.test(given) ? { recovery_code: given } : { otp: given }
      const previous = await currentBrowserSession(request, deps)
      const { ok } = await attempt(
        services.browserSessions.completeSecondFactor(
          challenge,
          proof,
          clientContext(request),
          previous?.session,
        ),
        // Deactivated meanwhile: the pending sign-in is over (the check below says so).
        { INVALID_MFA: ['', ''], INACTIVE_USER: ['', ''] },
      )
      if (ok) return finishSecondStep(request, reply, config.publicUrl, ok, returnTo)
      return again(
        recovery
          ? 'This recovery code is incorrect or was already used.'
          : 'The code is incorrect or was already used.',
      )
    },
  )
}
