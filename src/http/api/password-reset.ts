import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { NOTICES } from '../../errors.js'
import { clientContext } from '../client-context.js'
import type { RouteDeps } from '../route-config.js'
import { Empty, ErrorOut, ValidationErrorOut } from '../schemas/common.js'
import { ResetRequestIn, ResetRequestOut, resetConfirmIn } from '../schemas/password-reset.js'

const tags = ['auth']

export const passwordResetRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (
  app,
  { config, services },
) => {
  const { passwordReset } = services

  app.post(
    '/request',
    {
      config: { rateLimited: true },
      schema: {
        tags,
        operationId: 'auth_password_reset_request',
        summary: 'Ask for a password reset link by mail',
        description:
          'Always 202 with the same body, whether or not the email has an account. The link is mailed when SMTP is configured; otherwise an operator prints one with `keygate reset-link EMAIL`. Per account, at most one mail per RATE_LIMIT_RESET_MAIL_INTERVAL_SECONDS and RATE_LIMIT_RESET_MAILS_PER_HOUR an hour; a new link never cancels one already sent.',
        body: ResetRequestIn,
        response: { 202: ResetRequestOut, 422: ValidationErrorOut },
      },
    },
    async (request, reply) => {
      passwordReset.request(request.body.email, request.log, clientContext(request))
      return reply.code(202).send({ detail: NOTICES.RESET_REQUESTED })
    },
  )

  app.post(
    '/confirm',
    {
      config: { rateLimited: true },
      schema: {
        tags,
        operationId: 'auth_password_reset_confirm',
        summary: 'Set a new password with a reset token',
        description: 'The token works once. Every session of the account is signed out.',
        body: resetConfirmIn(config.passwordMinLength),
        response: { 204: Empty, 400: ErrorOut, 422: ValidationErrorOut },
      },
    },
    async (request, reply) => {
      await passwordReset.confirm(
        request.body.token,
        request.body.new_password,
        clientContext(request),
      )
      return reply.code(204).send(null)
    },
  )
}
