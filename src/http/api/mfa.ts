import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { actorContext, clientContext } from '../client-context.js'
import { caller, createGuards } from '../plugins/bearer-guard.js'
import { SECURITY } from '../plugins/openapi.js'
import type { RouteDeps } from '../route-config.js'
import { Empty, ErrorOut, IdParams, ValidationErrorOut } from '../schemas/common.js'
import {
  CodeIn,
  MfaStatusOut,
  PasswordCodeIn,
  PasswordIn,
  RecoveryCodesOut,
  TotpEnrolmentOut,
} from '../schemas/mfa.js'

const tags = ['users']
const failures = { 400: ErrorOut, 401: ErrorOut, 422: ValidationErrorOut, 429: ErrorOut }

/** Second factors of the caller (SPEC §9) and a superuser's reset, under /api/v1/users. */
export const mfaRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { services }) => {
  const { factors, admin } = services
  const { requireUser, requireSuperuser } = createGuards(services.auth)
  // Answers hold secrets (the TOTP secret, recovery codes).
  const base = { onRequest: requireUser, config: { noStore: true } }

  app.get(
    '/me/mfa',
    {
      ...base,
      schema: {
        tags,
        operationId: 'users_me_mfa_get',
        summary: 'Your second factors',
        security: SECURITY,
        response: { 200: MfaStatusOut, 401: ErrorOut },
      },
    },
    async (request) => factors.status(caller(request).user),
  )

  app.post(
    '/me/mfa/totp',
    {
      ...base,
      schema: {
        tags,
        operationId: 'users_me_mfa_totp_enrol',
        summary: 'Start TOTP enrolment: secret, otpauth:// URI and QR code',
        description:
          'Needs the password (400 `Incorrect password`, throttled like a sign-in). TOTP is on only once a code is confirmed; asking again before that replaces the secret. 409 when TOTP is already on.',
        security: SECURITY,
        body: PasswordIn,
        response: { 200: TotpEnrolmentOut, 409: ErrorOut, ...failures },
      },
    },
    async (request) =>
      factors.beginTotp(caller(request).user, request.body.password, clientContext(request)),
  )

  app.post(
    '/me/mfa/totp/confirm',
    {
      ...base,
      schema: {
        tags,
        operationId: 'users_me_mfa_totp_confirm',
        summary: 'Confirm TOTP with a first code: it is on, and here are 10 recovery codes',
        description:
          'The recovery codes are shown this once and stored hashed; each works once. 400 `Incorrect code`; 400 `TOTP enrolment not started`; 409 when already on.',
        security: SECURITY,
        body: CodeIn,
        response: { 200: RecoveryCodesOut, 409: ErrorOut, ...failures },
      },
    },
    async (request) =>
      factors.confirmTotp(caller(request).user, request.body.code, clientContext(request)),
  )

  app.delete(
    '/me/mfa/totp',
    {
      ...base,
      schema: {
        tags,
        operationId: 'users_me_mfa_totp_delete',
        summary: 'Turn TOTP off (its recovery codes go too)',
        description:
          'Needs the password and a current code: 400 `Incorrect password` or `Incorrect code` says which was wrong; 400 `TOTP is not enabled`.',
        security: SECURITY,
        body: PasswordCodeIn,
        response: { 204: Empty, ...failures },
      },
    },
    async (request, reply) => {
      const { password, code } = request.body
      await factors.disableTotp(caller(request).user, password, code, clientContext(request))
      return reply.code(204).send(null)
    },
  )

  app.post(
    '/me/mfa/recovery-codes',
    {
      ...base,
      schema: {
        tags,
        operationId: 'users_me_mfa_recovery_codes',
        summary: 'New recovery codes (the old ones stop working)',
        description: 'Needs the password and a current TOTP code, as turning TOTP off does.',
        security: SECURITY,
        body: PasswordCodeIn,
        response: { 200: RecoveryCodesOut, ...failures },
      },
    },
    async (request) => {
      const { password, code } = request.body
      return factors.regenerateRecoveryCodes(
        caller(request).user,
        password,
        code,
        clientContext(request),
      )
    },
  )

  app.post(
    '/:id/mfa/reset',
    {
      onRequest: requireSuperuser,
      schema: {
        tags,
        operationId: 'users_mfa_reset',
        summary: "Remove a user's second factors (superuser)",
        description:
          'TOTP, recovery codes and pending second steps go; the user signs in with the password alone and is told by mail (with SMTP).',
        security: SECURITY,
        params: IdParams,
        response: {
          204: Empty,
          401: ErrorOut,
          403: ErrorOut,
          404: ErrorOut,
          422: ValidationErrorOut,
        },
      },
    },
    async (request, reply) => {
      await factors.reset(await admin.get(request.params.id), request.log, actorContext(request))
      return reply.code(204).send(null)
    },
  )
}
