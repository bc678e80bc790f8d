import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { caller, createGuards } from '../plugins/bearer-guard.js'
import { SECURITY } from '../plugins/openapi.js'
import type { RouteDeps } from '../route-config.js'
import { Empty, ErrorOut, IdParams, PageQuery, ValidationErrorOut } from '../schemas/common.js'
import { PostIn, PostOut, PostPage, PostPatch, toPostOut } from '../schemas/posts.js'

const tags = ['posts']

export const postsRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { services }) => {
  const { posts } = services
  const { requireUser } = createGuards(services.auth)

  app.get(
    '/',
    {
      schema: {
        tags,
        operationId: 'posts_list',
        summary: 'List posts, newest first',
        querystring: PageQuery,
        response: { 200: PostPage, 422: ValidationErrorOut },
      },
    },
    async (request) => {
      const page = await posts.list(request.query.limit, request.query.offset)
      return { items: page.items.map(toPostOut), total: page.total }
    },
  )

  app.get(
    '/:id',
    {
      schema: {
        tags,
        operationId: 'posts_get',
        summary: 'One post',
        params: IdParams,
        response: { 200: PostOut, 404: ErrorOut },
      },
    },
    async (request) => toPostOut(await posts.get(request.params.id)),
  )

  app.post(
    '/',
    {
      onRequest: requireUser,
      config: { accountWrites: true },
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
