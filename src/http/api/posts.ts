import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { User } from '../../domain/user.js'
import { caller, createGuards } from '../plugins/bearer-guard.js'
import { SECURITY } from '../plugins/openapi.js'
import type { RouteDeps } from '../route-config.js'
import { Empty, ErrorOut, IdParams, PageQuery, ValidationErrorOut } from '../schemas/common.js'
import { PostIn, PostOut, PostPage, PostPatch, toPostOut } from '../schemas/posts.js'

const tags = ['posts']

const DRAFTS =
  'Anyone may read published posts. A post with `published: false` is a draft: only its owner and superusers see it (in lists and by id); to everyone else, anonymous callers included, it does not exist (404). A bearer token is optional here, but one that is sent must be valid (401 otherwise).'
// OpenAPI 3.1 §4.8.30: the empty requirement makes the bearer optional.
const OPTIONAL_SECURITY = [{}, ...SECURITY]

export const postsRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { services }) => {
  const { posts } = services
  const { requireUser, optionalUser } = createGuards(services.auth)
  const viewer = (request: { auth: { user: User } | null }) => request.auth?.user ?? null

  app.get(
    '/',
    {
      onRequest: optionalUser,
      schema: {
        tags,
        operationId: 'posts_list',
        summary: 'List posts, newest first',
        description: DRAFTS,
        security: OPTIONAL_SECURITY,
        querystring: PageQuery,
        response: { 200: PostPage, 401: ErrorOut, 422: ValidationErrorOut },
      },
    },
    async (request) => {
      const page = await posts.list(viewer(request), request.query.limit, request.query.offset)
      return { items: page.items.map(toPostOut), total: page.total }
    },
  )

  app.get(
    '/:id',
    {
      onRequest: optionalUser,
      schema: {
        tags,
        operationId: 'posts_get',
        summary: 'One post',
        description: DRAFTS,
        security: OPTIONAL_SECURITY,
        params: IdParams,
        response: { 200: PostOut, 401: ErrorOut, 404: ErrorOut },
      },
    },
    async (request) => toPostOut(await posts.get(viewer(request), request.params.id)),
  )

  app.post(
    '/',
    {
      onRequest: requireUser,
      config: { accountWrites: true, scope: 'posts:write' },
      schema: {
        tags,
        operationId: 'posts_create',
        summary: 'Create a post',
        description:
          'Each account may create RATE_LIMIT_POSTS_PER_MINUTE posts a minute (429 beyond).',
        security: SECURITY,
        body: PostIn,
        response: { 201: PostOut, 401: ErrorOut, 422: ValidationErrorOut, 429: ErrorOut },
      },
    },
    async (request, reply) => {
      const post = await posts.create(caller(request).user, request.body)
      reply.code(201).header('Location', `/api/v1/posts/${post.id}`)
      return toPostOut(post)
    },
  )

  app.patch(
    '/:id',
    {
      onRequest: requireUser,
      config: { scope: 'posts:write' },
      schema: {
        tags,
        operationId: 'posts_update',
        summary: 'Edit a post (owner or superuser)',
        security: SECURITY,
        params: IdParams,
        body: PostPatch,
        response: {
          200: PostOut,
          401: ErrorOut,
          403: ErrorOut,
          404: ErrorOut,
          422: ValidationErrorOut,
        },
      },
    },
    async (request) =>
      toPostOut(await posts.update(caller(request).user, request.params.id, request.body)),
  )

  app.delete(
    '/:id',
    {
      onRequest: requireUser,
      config: { scope: 'posts:write' },
      schema: {
        tags,
        operationId: 'posts_delete',
        summary: 'Delete a post (owner or superuser)',
        security: SECURITY,
        params: IdParams,
        response: { 204: Empty, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut },
      },
    },
    async (request, reply) => {
      await posts.remove(caller(request).user, request.params.id)
      return reply.code(204).send(null)
    },
  )
}
