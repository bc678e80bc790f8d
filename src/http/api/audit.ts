import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { caller, createGuards } from '../plugins/bearer-guard.js'
import { SECURITY } from '../plugins/openapi.js'
import type { RouteDeps } from '../route-config.js'
import {
  AuditPageOut,
  AuditQuery,
  SecurityEventsQuery,
  toAuditFilter,
  toAuditPageOut,
} from '../schemas/audit.js'
import { ErrorOut, ValidationErrorOut } from '../schemas/common.js'

const tags = ['audit']
const paging =
  'Newest first. Pass `next_cursor` back as `cursor` for the next older page; it stays correct while new events are written (they appear only on a fresh first page).'

/** The audit log (superusers) and the caller's own security events, under /api/v1. */
export const auditRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { services }) => {
  const { audit } = services
  const { requireUser, requireSuperuser } = createGuards(services.auth)

  app.get(
    '/audit',
    {
      onRequest: requireSuperuser,
      config: { scope: 'admin' },
      schema: {
        tags,
        operationId: 'audit_list',
        summary: 'The audit log (superuser)',
        description: `Filters: \`user_id\`, \`type\`, \`since\` (inclusive), \`until\` (exclusive). ${paging}`,
        security: SECURITY,
        querystring: AuditQuery,
        response: { 200: AuditPageOut, 401: ErrorOut, 403: ErrorOut, 422: ValidationErrorOut },
      },
    },
    async (request) => toAuditPageOut(await audit.list(toAuditFilter(request.query))),
  )

  app.get(
    '/users/me/security-events',
    {
      onRequest: requireUser,
      config: { scope: 'account' },
      schema: {
        tags,
        operationId: 'users_me_security_events',
        summary: 'My sign-ins and account changes',
        description: paging,
        security: SECURITY,
        querystring: SecurityEventsQuery,
        response: { 200: AuditPageOut, 401: ErrorOut, 422: ValidationErrorOut },
      },
    },
    async (request) =>
      toAuditPageOut(
        await audit.listForUser(caller(request).user.id, toAuditFilter(request.query)),
      ),
  )
}
