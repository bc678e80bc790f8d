import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { HTTPMethod } from 'find-my-way'
import FindMyWay from 'find-my-way'
import { ERRORS } from '../../errors.js'
import { sendError } from './errors.js'

const METHODS: HTTPMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']

/** 404 for an unknown path; 405 with `Allow` for a path that exists under another method, as FastAPI answers. */
export default fp(async function notFoundPlugin(app: FastifyInstance) {
  const known = FindMyWay()
  app.addHook('onRoute', (route) => {
    const methods = (Array.isArray(route.method) ? route.method : [route.method]) as HTTPMethod[]
    for (const method of methods) {
      if (method === 'HEAD' || known.hasRoute(method, route.url)) continue
      known.on(method, route.url, () => {})
    }
  })

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '/'
    const allowed = METHODS.filter((m) => known.find(m, path))
    if (allowed.length > 0) {
      const { status, detail } = ERRORS.METHOD_NOT_ALLOWED
      return sendError(reply, status, { detail }, { Allow: allowed.join(', ') })
    }
    return sendError(reply, ERRORS.NOT_FOUND.status, { detail: ERRORS.NOT_FOUND.detail })
  })
})
