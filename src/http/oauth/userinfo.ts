import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { OIDC_PATHS } from '../../services/oauth/discovery.js'
import { userInfo } from '../../services/oidc/user-claims.js'
import { caller, createGuards } from '../plugins/bearer-guard.js'
import { SECURITY } from '../plugins/openapi.js'
import type { RouteDeps } from '../route-config.js'
import { ErrorOut } from '../schemas/common.js'

const UserInfoOut = Type.Object(
  {
    sub: Type.String(),
    preferred_username: Type.Optional(Type.String()),
    email: Type.Optional(Type.String()),
    email_verified: Type.Optional(Type.Boolean()),
  },
  { description: 'OIDC Core §5.3.2: `sub` and the claims the token’s scopes release' },
)

/** UserInfo (OIDC Core §5.3): GET and POST with the access token as bearer; needs `openid`. */
export const userinfoRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { services }) => {
  const { requireUser } = createGuards(services.auth)
  const options = (operationId: string) => ({
    onRequest: requireUser,
    config: { scope: 'openid' as const, noStore: true },
    schema: {
      tags: ['oidc'],
      operationId,
      summary: 'Claims about the signed-in user (OpenID Connect UserInfo)',
      security: SECURITY,
      response: { 200: UserInfoOut, 401: ErrorOut, 403: ErrorOut },
    },
  })
  const handler = async (request: FastifyRequest) => {
    const auth = caller(request)
    return userInfo(auth.user, auth.scope)
  }
  app.get(OIDC_PATHS.userinfo, options('oidc_userinfo_get'), handler)
  app.post(OIDC_PATHS.userinfo, options('oidc_userinfo_post'), handler)
}
