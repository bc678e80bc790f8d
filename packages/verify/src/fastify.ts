import type {
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
  onRequestAsyncHookHandler,
} from 'fastify'
import { VerifyError } from './errors.js'
import type { ScopeRequirement } from './scope.js'
import type { VerifiedToken, Verifier, VerifyOptions } from './verifier.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** the verified Keygate token, set by `keygateVerify` / `keygateAuth` */
    keygate: VerifiedToken | null
  }
}

export interface KeygatePluginOptions {
  verifier: Verifier
  /** scope(s) every route of the scope needs */
  scope?: ScopeRequirement
}

/** An `onRequest` hook for one route: `{ onRequest: keygateAuth(verifier, { scope }) }`. */
export function keygateAuth(verifier: Verifier, options: VerifyOptions = {}) {
  const hook = async (request: FastifyRequest, reply: FastifyReply) => {
    try {
      request.keygate = await verifier.verifyRequest(request, options)
    } catch (err) {
      if (!(err instanceof VerifyError)) throw err
      return reply
        .code(err.status)
        .headers({ ...err.headers, 'cache-control': 'no-store' })
        .send(err.body)
    }
  }
  return hook as onRequestAsyncHookHandler
}

/**
 * Protects every route of the context it is registered in (register it inside a scope to
 * protect only that scope's routes): `app.register(keygateVerify, { verifier, scope })`.
 */
const plugin: FastifyPluginAsync<KeygatePluginOptions> = async (app, { verifier, scope }) => {
  if (!app.hasRequestDecorator('keygate')) app.decorateRequest('keygate', null)
  app.addHook('onRequest', keygateAuth(verifier, { scope }))
}

// What fastify-plugin sets (without depending on it): the hook applies to the context that
// registered the plugin rather than to a child context of its own.
Object.assign(plugin, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: '@keygate/verify',
})

export const keygateVerify = plugin
export default plugin
