import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { clientContext, signInAnswer } from '../client-context.js'
import type { RouteDeps } from '../route-config.js'
import { ErrorOut, OAuthErrorOut, ValidationErrorOut } from '../schemas/common.js'
import {
  LoginIn,
  LoginMfaIn,
  SignInRefusedOut,
  signupIn,
  TokenEndpointOut,
  TokenOut,
  TokenRequestIn,
} from '../schemas/signup-login.js'
import { toUserOut, UserOut } from '../schemas/users.js'

const tags = ['auth']

export const authRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (
  app,
  { config, services },
) => {
  const { users, oauth } = services
  const secure = config.publicUrl.startsWith('https:')

  app.post(
    '/signup',
    {
      config: { rateLimited: true },
      schema: {
        tags,
        operationId: 'auth_signup',
        summary: 'Create an account',
        description:
          'Answers 409 when the email or username is taken: a deliberate exception to enumeration safety, as in the FastAPI tutorials; signup is throttled.',
        body: signupIn(config.passwordMinLength),
        response: { 201: UserOut, 409: ErrorOut, 422: ValidationErrorOut, 429: ErrorOut },
      },
    },
    async (request, reply) => {
      const user = await users.signup(request.body, {}, clientContext(request), request.log)
      reply.code(201).header('Location', `/api/v1/users/${user.id}`)
      return toUserOut(user)
    },
  )

  app.post(
    '/token',
    {
      config: { rateLimited: true },
      schema: {
        tags,
        operationId: 'auth_token',
        summary:
          'OAuth2 token endpoint (password, refresh_token, client_credentials and MFA grants)',
        description:
          "RFC 6749 §4.3 / §4.4 / §6. The client authenticates with `client_secret_basic` or `client_secret_post` when confidential, or just names itself (`client_id`) when public; no client_id (or Swagger UI's empty Basic header) is the built-in public client `keygate`. An unregistered client, or a confidential one with a wrong or missing secret, is 401 `invalid_client` (with `WWW-Authenticate: Basic` when Basic was used); a grant the client is not registered for is 400 `unauthorized_client`. The password grant (`username` is the email or the username) is for first-party clients only (RFC 9700). `client_credentials` answers an access token whose `sub` is the client, with `scope` and no refresh token. A password sign-in sets the `keygate_device` cookie (HttpOnly): sent back on a later sign-in to the same account, it keeps that client out of the per-account lockout. A correct password on an account with a second factor answers 403 `mfa_required` with an `mfa_token` (5 minutes, this client only); the client then sends `grant_type=urn:keygate:params:oauth:grant-type:mfa` with `mfa_token` and `otp` or `recovery_code` (400 invalid_grant for a wrong or replayed code; the token dies after 5).",
        consumes: ['application/x-www-form-urlencoded'],
        body: TokenRequestIn,
        response: {
          200: TokenEndpointOut,
          400: OAuthErrorOut,
          401: OAuthErrorOut,
          403: SignInRefusedOut,
          422: ValidationErrorOut,
          429: ErrorOut,
        },
      },
    },
    async (request, reply) =>
      signInAnswer(
        reply,
        await oauth.grant(request.body, clientContext(request), request.headers),
        secure,
      ),
  )

  app.post(
    '/login',
    {
      config: { rateLimited: true },
      schema: {
        tags,
        operationId: 'auth_login',
        summary: "Log in with JSON (or a form): the tutorials' login",
        description:
          'A correct password on an account with a second factor answers 403 `{"detail": "Second factor required", "mfa_token": …}`: finish with `POST /auth/login/mfa`.',
        consumes: ['application/json', 'application/x-www-form-urlencoded'],
        body: LoginIn,
        response: {
          200: TokenOut,
          401: ErrorOut,
          403: SignInRefusedOut,
          422: ValidationErrorOut,
          429: ErrorOut,
        },
      },
    },
    async (request, reply) =>
      signInAnswer(reply, await oauth.login(request.body, clientContext(request)), secure),
  )

  app.post(
    '/login/mfa',
    {
      config: { rateLimited: true },
      schema: {
        tags,
        operationId: 'auth_login_mfa',
        summary: 'Second step of a JSON login: the mfa_token and a TOTP or recovery code',
        description:
          'The `mfa_token` from the 403 of `/auth/login` (5 minutes, bound to the client that got it, dies after 5 wrong codes) with `otp` or `recovery_code`. A wrong, replayed or spent code, or a dead token, is 401. The tokens carry `amr` `["pwd","otp","mfa"]`.',
        consumes: ['application/json', 'application/x-www-form-urlencoded'],
        body: LoginMfaIn,
        response: {
          200: TokenOut,
          401: ErrorOut,
          403: ErrorOut,
          422: ValidationErrorOut,
          429: ErrorOut,
        },
      },
    },
    async (request, reply) =>
      signInAnswer(reply, await oauth.loginMfa(request.body, clientContext(request)), secure),
  )
}
