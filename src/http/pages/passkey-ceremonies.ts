import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { type Static, Type } from 'typebox'
import { KeygateError } from '../../errors.js'
import { CHALLENGE_TTL_MS } from '../../services/accounts/webauthn-challenges.js'
import { clientContext } from '../client-context.js'
import type { RouteDeps } from '../route-config.js'
import { PasskeyName, toPasskeyOut } from '../schemas/passkeys.js'
import {
  currentBrowserSession,
  safeReturnTo,
  setBrowserSessionCookie,
} from './kit/browser-session.js'
import { attempt } from './kit/form-errors.js'
import { csrfCookie } from './kit/page-context.js'
import { pendingChallengeOf, SECOND_STEP_PATH, settleSecondStep } from './signin-second-step.js'

// What the browser sends back from navigator.credentials (@simplewebauthn/browser's
// JSON). Every field the verification reads is listed: unknown ones are dropped.
const B64u = (maxLength: number) => Type.String({ maxLength, pattern: '^[A-Za-z0-9_-]*$' })
const Common = {
  id: B64u(1400),
  rawId: B64u(1400),
  type: Type.Literal('public-key'),
  authenticatorAttachment: Type.Optional(
    Type.Union([Type.Literal('platform'), Type.Literal('cross-platform')]),
  ),
  clientExtensionResults: Type.Object({}),
}
const RegisterIn = Type.Object({
  response: Type.Object({
    ...Common,
    response: Type.Object({
      clientDataJSON: B64u(4096),
      attestationObject: B64u(32_768),
      authenticatorData: Type.Optional(B64u(32_768)),
      transports: Type.Optional(Type.Array(Type.String({ maxLength: 32 }), { maxItems: 8 })),
      publicKeyAlgorithm: Type.Optional(Type.Integer()),
      publicKey: Type.Optional(B64u(4096)),
    }),
  }),
  name: Type.Optional(PasskeyName),
})
const AuthenticateIn = Type.Object({
  response: Type.Object({
    ...Common,
    response: Type.Object({
      clientDataJSON: B64u(4096),
      authenticatorData: B64u(4096),
      signature: B64u(1024),
      userHandle: Type.Optional(B64u(256)),
    }),
  }),
})
const ReturnToQuery = Type.Object({ return_to: Type.Optional(Type.String({ maxLength: 2048 })) })

/** The challenge handle's cookie: HttpOnly, SameSite=Strict, gone after the ceremony's 5 minutes. */
const challengeCookie = (publicUrl: string) =>
  publicUrl.startsWith('https:') ? '__Host-keygate_webauthn' : 'keygate_webauthn'

/**
 * The JSON endpoints /assets/passkeys.js calls from the hosted pages (same
 * origin only): options for a ceremony, then its answer. Not under /api/v1,
 * as the browser session cookie, never a bearer, says who is signed in.
 * Every POST must come from PUBLIC_URL's origin and carry the page's CSRF
 * token in `X-CSRF-Token`. Errors are JSON `{"detail": …}` for the script to show.
 */
export const passkeyCeremonyRoutes: FastifyPluginAsync<RouteDeps> = async (app, deps) => {
  const { config, services } = deps
  const { passkeys } = services
  const publicUrl = new URL(config.publicUrl)
  const origin = publicUrl.origin
  const base = publicUrl.pathname.replace(/\/+$/, '')
  const secure = publicUrl.protocol === 'https:'
  const csrfName = csrfCookie(config.publicUrl)
  const handleName = challengeCookie(config.publicUrl)

  // Before the body is parsed: a cross-site or tokenless request gets no further.
  app.addHook('onRequest', (request, _reply, done) => {
    const token = request.headers['x-csrf-token']
    const ok =
      request.headers.origin === origin && services.csrf.verify(request.cookies[csrfName], token)
    done(ok ? undefined : new KeygateError('CSRF_REFUSED'))
  })

  const keepHandle = (reply: FastifyReply, handle: string) =>
    reply.setCookie(handleName, handle, {
      httpOnly: true,
      sameSite: 'strict',
      path: '/',
      secure,
      maxAge: CHALLENGE_TTL_MS / 1000,
    })
  const dropHandle = (reply: FastifyReply) =>
    reply.clearCookie(handleName, { httpOnly: true, sameSite: 'strict', path: '/', secure })

  async function signedIn(request: FastifyRequest) {
    const current = await currentBrowserSession(request, deps)
    if (!current) throw new KeygateError('SIGN_IN_REQUIRED')
    return current
  }

  const route = { config: { noStore: true }, schema: { hide: true } }

  app.post('/passkeys/register/options', route, async (request, reply) => {
    const { session, user } = await signedIn(request)
    const { options, handle } = await passkeys.registrationOptions(user, session.auth_time)
    keepHandle(reply, handle)
    return { options }
  })

  app.post(
    '/passkeys/register',
    { ...route, schema: { hide: true, body: RegisterIn } },
    async (request, reply) => {
      const { session, user } = await signedIn(request)
      const body = request.body as Static<typeof RegisterIn>
      const handle = request.cookies[handleName]
      dropHandle(reply)
      const passkey = await passkeys.register(
        user,
        session.auth_time,
        handle,
        body.response as RegistrationResponseJSON,
        body.name,
        clientContext(request),
      )
      return reply.code(201).send({
        passkey: toPasskeyOut(passkey),
        redirect: `${base}/account?done=passkey-added#passkeys`,
      })
    },
  )

  // Passwordless: no account is named first (discoverable credentials).
  app.post(
    '/passkeys/signin/options',
    { ...route, config: { noStore: true, rateLimited: true } },
    async (_request, reply) => {
      const { options, handle } = await passkeys.authenticationOptions()
      keepHandle(reply, handle)
      return { options }
    },
  )

  app.post(
    '/passkeys/signin',
    {
      config: { noStore: true, rateLimited: true },
      schema: { hide: true, body: AuthenticateIn, querystring: ReturnToQuery },
    },
    async (request, reply) => {
      const body = request.body as Static<typeof AuthenticateIn>
      const query = request.query as Static<typeof ReturnToQuery>
      const handle = request.cookies[handleName]
      dropHandle(reply)
      const ctx = clientContext(request)
      const { user, amr } = await passkeys.authenticate(
        handle,
        body.response as AuthenticationResponseJSON,
        ctx,
      )
      // As on the password form: the same person keeps the browser's session (and
      // its apps) under a new cookie; another person's is signed out first.
      const previous = await currentBrowserSession(request, deps)
      const fresh = await services.browserSessions.signIn(user, { amr }, ctx, previous?.session)
      setBrowserSessionCookie(reply, config.publicUrl, fresh.cookie)
      return { redirect: `${base}${safeReturnTo(query.return_to) ?? '/account'}` }
    },
  )

  // The sign-in page's second step (a correct password on an account with a
  // factor): under /signin, where the pending sign-in's challenge cookie goes.
  app.post(`${SECOND_STEP_PATH}/passkey/options`, route, async (request, reply) => {
    const user = await services.browserSessions.pendingSecondFactor(pendingChallengeOf(request))
    if (!user) throw new KeygateError('SIGN_IN_EXPIRED')
    const { options, handle } = await passkeys.authenticationOptions(user.id)
    keepHandle(reply, handle)
    return { options }
  })

  app.post(
    `${SECOND_STEP_PATH}/passkey`,
    {
      config: { noStore: true, rateLimited: true },
      schema: { hide: true, body: AuthenticateIn, querystring: ReturnToQuery },
    },
    async (request, reply) => {
      const body = request.body as Static<typeof AuthenticateIn>
      const query = request.query as Static<typeof ReturnToQuery>
      const challenge = pendingChallengeOf(request)
      const pending = await services.browserSessions.pendingSecondFactor(challenge)
      if (!pending || challenge === undefined) throw new KeygateError('SIGN_IN_EXPIRED')
      const handle = request.cookies[handleName]
      dropHandle(reply)
      const ctx = clientContext(request)
      const proved = await passkeys.authenticate(
        handle,
        body.response as AuthenticationResponseJSON,
        ctx,
      )
      const previous = await currentBrowserSession(request, deps)
      // The pending sign-in ends only for the account the passkey proved (factors.ts).
      const { ok } = await attempt(
        services.browserSessions.completeSecondFactor(
          challenge,
          { passkeyUserId: proved.user.id },
          ctx,
          previous?.session,
          ['pwd', ...proved.amr, 'mfa'],
        ),
        { INVALID_MFA: ['', ''] },
      )
      if (!ok) throw new KeygateError('PASSKEY_REJECTED')
      settleSecondStep(request, reply, config.publicUrl, ok)
      return { redirect: `${base}${safeReturnTo(query.return_to) ?? '/account'}` }
    },
  )
}
