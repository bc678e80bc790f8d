import type { User } from '../../domain/user.js'

/**
 * Whether the user's email is verified. Read in this one place so the column
 * (SPEC §9) is picked up wherever claims are made once it exists.
 */
export const emailVerified = (user: User): boolean =>
  (user as User & { email_verified?: boolean }).email_verified === true

/**
 * The claims a scope releases (OIDC Core §5.4): `profile` → preferred_username,
 * `email` → email and email_verified. A claim without a value is left out (§5.3.2).
 */
export function claimsFor(user: User, scopes: readonly string[]): Record<string, unknown> {
  const claims: Record<string, unknown> = {}
  if (scopes.includes('profile') && user.username !== null) {
    claims.preferred_username = user.username
  }
  if (scopes.includes('email')) {
    claims.email = user.email
    claims.email_verified = emailVerified(user)
  }
  return claims
}
