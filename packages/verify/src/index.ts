export { bearerToken, type RequestLike } from './bearer.js'
export { VerifyError, type VerifyErrorCode } from './errors.js'
export type { FeedOptions } from './feed.js'
export { sendVerifyError } from './node.js'
export { requireScope, type ScopeRequirement } from './scope.js'
export {
  createVerifier,
  type VerifiedToken,
  type Verifier,
  type VerifierOptions,
  type VerifyOptions,
} from './verifier.js'
