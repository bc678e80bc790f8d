import type { Config } from '../../config.js'
import { SCOPES } from '../../domain/scopes.js'
import type { SigningKeys } from '../keys/signing-keys.js'
import { MFA_GRANT } from './token-endpoint.js'

/** Where the provider's browser endpoints live (outside /api/v1: they answer pages and redirects). */
export const OIDC_PATHS = {
  authorize: '/oauth/authorize',
  userinfo: '/oauth/userinfo',
  logout: '/oauth/logout',
  jwks: '/.well-known/jwks.json',
} as const

/** Claims an ID token or UserInfo may carry (OIDC Core §5.1, §2), for `claims_supported`. */
export const CLAIMS_SUPPORTED = [
  'sub',
  'iss',
  'aud',
  'exp',
  'iat',
  'auth_time',
  'nonce',
  'sid',
  'amr',
  'preferred_username',
  'email',
  'email_verified',
]

const CLIENT_AUTH = ['client_secret_basic', 'client_secret_post', 'none']

/**
 * What clients and resource servers discover: one document served as both
 * OIDC Discovery 1.0 and RFC 8414 metadata, and the RFC 7517 key set.
 */
export function createDiscoveryService(deps: {
  config: Pick<Config, 'publicUrl' | 'jwtIssuer'>
  keys: SigningKeys
  idTokenKeys: SigningKeys
}) {
  const { config, keys, idTokenKeys } = deps
  const base = config.publicUrl
  // The published keys: the access-token keys when asymmetric (they sign ID
  // tokens too), else only the RS256 ID-token keys; an HS256 secret never.
  const published = [...new Set([keys, idTokenKeys])].filter((k) => k.alg !== 'HS256')
  // RFC 8414 §3.3 / OIDC Discovery §4.3: `issuer` must equal the URL the metadata
  // was fetched from, and the tokens' `iss`; both are JWT_ISSUER (default PUBLIC_URL).
  const metadata = {
    issuer: config.jwtIssuer,
    authorization_endpoint: `${base}${OIDC_PATHS.authorize}`,
    token_endpoint: `${base}/api/v1/auth/token`,
    userinfo_endpoint: `${base}${OIDC_PATHS.userinfo}`,
    end_session_endpoint: `${base}${OIDC_PATHS.logout}`,
    jwks_uri: `${base}${OIDC_PATHS.jwks}`,
    revocation_endpoint: `${base}/api/v1/auth/revoke`,
    introspection_endpoint: `${base}/api/v1/auth/introspect`,
    // Code flow only (OAuth 2.1): no implicit or hybrid response types.
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: [
      'authorization_code',
      'refresh_token',
      'client_credentials',
      'password',
      MFA_GRANT,
    ],
    // RFC 9700 §2.1.1: PKCE for every client, and `plain` is not offered.
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: CLIENT_AUTH,
    revocation_endpoint_auth_methods_supported: CLIENT_AUTH,
    introspection_endpoint_auth_methods_supported: ['bearer'],
    scopes_supported: [...SCOPES],
    claims_supported: CLAIMS_SUPPORTED,
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [idTokenKeys.alg],
    // A Keygate extension (RFC 8414 §2 allows them): how access tokens are signed,
    // so a resource server knows the JWKS's ID-token key does not sign them (HS256).
    access_token_signing_alg_values_supported: [keys.alg],
    // RFC 9207: the authorization response names its issuer (mix-up defence).
    authorization_response_iss_parameter_supported: true,
    prompt_values_supported: ['none', 'login', 'consent'],
    claims_parameter_supported: false,
    request_parameter_supported: false,
    // OIDC Discovery defaults this to true; Keygate fetches no request objects.
    request_uri_parameter_supported: false,
    service_documentation: `${base}/docs`,
  }

  return {
    /** OIDC Discovery 1.0 / RFC 8414 authorization server metadata. */
    metadata: () => metadata,
    /** Every retained public key, re-read first so a `keygate keys rotate` shows at once. */
    async jwks() {
      await Promise.all(published.map((k) => k.sync()))
      return { keys: published.flatMap((k) => k.jwks().keys) }
    },
  }
}
