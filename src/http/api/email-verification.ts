import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { NOTICES } from '../../errors.js'
import { clientContext } from '../client-context.js'
import { caller, createGuards } from '../plugins/bearer-guard.js'
import { SECURITY } from '../plugins/openapi.js'
import type { RouteDeps } from '../route-config.js'
import { ErrorOut, ValidationErrorOut } from '../schemas/common.js'
import { toUserOut, UserOut } from '../schemas/users.js'

const tags = ['auth']
const Notice = Type.Object({ detail: Type.String() })
const EmailTokenIn = Type.Object({ token: Type.String({ minLength: 1, maxLength: 256 }) })

/** Email verification and address changes by mailed link (SPEC §9), under /api/v1/auth. */
export const emailVerificationRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (
  app,
  { services },
) => {
  const { emailVerification } = services
  const { requireUser } = createGuards(services.auth)

  app.post(
    '/verify-email/request',
    {
      onRequest: requireUser,
      config: { rateLimited: true },
      schema: {
        tags,
        operationId: 'auth_verify_email_request',
        summary: 'Mail a new verification link to your address',
        description:
          'Always 202 with the same body, whether the address is verified already, a link was just sent, or SMTP is off. Per account, links are spaced as reset mails are (RATE_LIMIT_RESET_MAIL_*). The link (PUBLIC_URL/verify-email?token=…) lives 24 hours and works once.',
        security: SECURITY,
        response: { 202: Notice, 401: ErrorOut, 429: ErrorOut },
      },
    },
    async (request, reply) => {
      emailVerification.request(caller(request).user, request.log, clientContext(request))
      return reply.code(202).send({ detail: NOTICES.VERIFICATION_REQUESTED })
    },
  )

  app.post(
    '/verify-email/confirm',
    {
      config: { rateLimited: true },
      schema: {
        tags,
        operationId: 'auth_verify_email_confirm',
        summary: 'Follow a mailed link: verify the address, or complete an email change',
        description:
          'The token of a verification link marks the address verified; the token of an email-change link (sent by `PATCH /users/me`) moves the account to the new address, verified. Each works once, within 24 hours. Answers the account as it now is.',
        body: EmailTokenIn,
        response: { 200: UserOut, 400: ErrorOut, 409: ErrorOut, 422: ValidationErrorOut },
      },
    },
    async (request) =>
      toUserOut(await emailVerification.confirm(request.body.token, clientContext(request))),
  )
}
