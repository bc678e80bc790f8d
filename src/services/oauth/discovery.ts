import type { Config } from '../../config.js'
import type { SigningKeys } from '../keys/signing-keys.js'
import { MFA_GRANT } from './token-endpoint.js'

/** What clients and resource servers discover: RFC 8414 metadata and the RFC 7517 key set. */
export function createDiscoveryService(deps: {
  config: Pick<Config, 'publicUrl' | 'jwtIssuer'>
  keys: SigningKeys
}) {
  const { config, keys } = deps
  const base = config.publicUrl
  // RFC 8414 §3.3: `issuer` must equal the URL the metadata was fetched from, and
  // the tokens' `iss`; both are JWT_ISSUER (default PUBLIC_URL).
  const metadata = {
    issuer: config.jwtIssuer,
    token_endpoint: `${base}/api/v1/auth/token`,
    revocation_endpoint: `${base}/api/v1/auth/revoke`,
    introspection_endpoint: `${base}/api/v1/auth/introspect`,
    ...(keys.alg !== 'HS256' && { jwks_uri: `${base}/.well-known/jwks.json` }),
    grant_types_supported: ['password', 'refresh_token', MFA_GRANT],
    // No authorization endpoint yet (password grant only), so no response types.
    response_types_supported: [],
    scopes_supported: [],
    // Public clients (RFC 6749 §2.1): a client_secret is accepted but never checked.
    token_endpoint_auth_methods_supported: ['none'],
    revocation_endpoint_auth_methods_supported: ['none'],
    service_documentation: `${base}/docs`,
  }

  return {
    /** RFC 8414 authorization server metadata. */
    metadata: () => metadata,
    /** Every retained public key, re-read first so a `keygate keys rotate` shows at once. */
    async jwks() {
      await keys.sync()
      return keys.jwks()
    },
  }
}
