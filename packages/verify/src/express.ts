import type { IncomingMessage, ServerResponse } from 'node:http'
import { VerifyError } from './errors.js'
import { sendVerifyError } from './node.js'
import type { VerifiedToken, Verifier, VerifyOptions } from './verifier.js'

declare global {
  // Express's own augmentation point (no dependency on its types): req.keygate in handlers.
  namespace Express {
    interface Request {
      /** the verified Keygate token, set by `keygateMiddleware` */
      keygate?: VerifiedToken
    }
  }
}

/** The request after the middleware: the verified token is on `req.keygate`. */
export type KeygateRequest = IncomingMessage & { keygate?: VerifiedToken }

/**
 * Express/Connect middleware: verifies the bearer token, sets `req.keygate` (and
 * `res.locals.keygate` under Express), or answers 401/403 as Keygate does. Other errors
 * (a bug, not a refusal) go to `next(err)`.
 */
export function keygateMiddleware(verifier: Verifier, options: VerifyOptions = {}) {
  return (
    req: KeygateRequest,
    res: ServerResponse & { locals?: Record<string, unknown> },
    next: (err?: unknown) => void,
  ): void => {
    verifier.verifyRequest(req, options).then(
      (token) => {
        req.keygate = token
        if (res.locals) res.locals.keygate = token
        next()
      },
      (err) => (err instanceof VerifyError ? sendVerifyError(res, err) : next(err)),
    )
  }
}
