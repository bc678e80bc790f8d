import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { actorContext } from '../client-context.js'
import { caller, createGuards } from '../plugins/bearer-guard.js'
import { SECURITY } from '../plugins/openapi.js'
import type { RouteDeps } from '../route-config.js'
import { Empty, ErrorOut, ValidationErrorOut } from '../schemas/common.js'
import {
  DeleteMeIn,
  ProfilePatchIn,
  passwordChangeIn,
  toUserOut,
  UserOut,
} from '../schemas/users.js'

const tags = ['users']

export const usersRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (
  app,
  { config, services },
) => {
  const { account } = services
  const { requireUser } = createGuards(services.auth)

  app.get(
    '/me',
    {
      onRequest: requireUser,
      schema: {
        tags,
        operationId: 'users_me_get',
        summary: 'The current user',
        security: SECURITY,
        response: { 200: UserOut, 401: ErrorOut },
      },
    },
    async (request) => toUserOut(caller(request).user),
  )

  app.patch(
    '/me',
    {
      onRequest: requireUser,
      config: { scope: 'account' },
      schema: {
        tags,
        operationId: 'users_me_update',
        summary: 'Change your username or email',
        description:
          'A new email needs `current_password` (ASVS 7.5.1), throttled like a sign-in. With SMTP configured the email is not changed by this call: a link goes to the new address (confirmed with `POST /auth/verify-email/confirm`), the old address is told, and stays the login until the link is followed; without SMTP it changes at once and is unverified. `username: null` removes the username. 409s count against the client as signup conflicts do (429 beyond).',
        security: SECURITY,
        body: ProfilePatchIn,
        response: {
          200: UserOut,
          400: ErrorOut,
          401: ErrorOut,
          409: ErrorOut,
          422: ValidationErrorOut,
          429: ErrorOut,
        },
      },
    },
    async (request) =>
      toUserOut(
        await account.updateProfile(
          caller(request),
          request.body,
          actorContext(request),
          request.log,
        ),
      ),
  )

  app.post(
    '/me/password',
    {
      onRequest: requireUser,
      config: { scope: 'account' },
      schema: {
        tags,
        operationId: 'users_me_password_change',
        summary: 'Change your password',
        description:
          'Every other session of the account is signed out. The session making the request keeps only this access token, until it expires: its refresh token stops working (and with it anyone who shared the session), so sign in again with the new password afterwards. `current_password` is throttled like a sign-in (429 with Retry-After).',
        security: SECURITY,
        body: passwordChangeIn(config.passwordMinLength),
        response: {
          204: Empty,
          400: ErrorOut,
          401: ErrorOut,
          422: ValidationErrorOut,
          429: ErrorOut,
        },
      },
    },
    async (request, reply) => {
      const { current_password, new_password } = request.body
      await account.changePassword(
        caller(request),
        current_password,
        new_password,
        actorContext(request),
      )
      return reply.code(204).send(null)
    },
  )

  app.delete(
    '/me',
    {
      onRequest: requireUser,
      config: { scope: 'account' },
      schema: {
        tags,
        operationId: 'users_me_delete',
        summary: 'Delete your account',
        description:
          'Needs the password. The account, its sessions and its posts are removed together. 409 for the last active superuser.',
        security: SECURITY,
        body: DeleteMeIn,
        response: {
          204: Empty,
          400: ErrorOut,
          401: ErrorOut,
          409: ErrorOut,
          422: ValidationErrorOut,
          429: ErrorOut,
        },
      },
    },
    async (request, reply) => {
      await account.deleteSelf(caller(request), request.body.password, actorContext(request))
      return reply.code(204).send(null)
    },
  )
}
