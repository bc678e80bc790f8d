import type { User } from '../../domain/user.js'

/** OIDC Core §5.1 standard claims Keygate releases. */
export interface ScopeClaims {
  preferred_username?: string
  email?: string
  email_verified?: boolean
}

/**
 * The claims a scope releases (OIDC Core §5.4): `profile` → preferred_username,
 * `email` → email and email_verified. A claim without a value is left out (§5.3.2).
 */
export function claimsFor(user: User, scopes: readonly string[]): ScopeClaims {
  const claims: ScopeClaims = {}
  if (scopes.includes('profile') && user.username !== null) {
    claims.preferred_username = user.username
  }
  if (scopes.includes('email')) {
    claims.email = user.email
    claims.email_verified = user.email_verified
  }
  return claims
}

/** The UserInfo response (OIDC Core §5.3.2): `sub` and what the token's scopes release. */
export const userInfo = (user: User, scopes: readonly string[]): ScopeClaims & { sub: string } => ({
  sub: user.id,
  ...claimsFor(user, scopes),
})
