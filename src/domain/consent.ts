import type { Scope } from './scopes.js'

/** What a user agreed to let one client do (SPEC §7 "Consent"): remembered per user and client. */
export interface Consent {
  user_id: string
  client_id: string
  /** every scope granted so far (each grant adds to it) */
  scope: Scope[]
  created_at: Date
  updated_at: Date
}

/** A consented client as the user's "connected apps" list shows it. */
export interface ConnectedApp extends Consent {
  name: string
}

/**
 * Whether an authorization gets a refresh token (SPEC §7, OIDC Core §11): a
 * first-party client whenever it may refresh at all; a third-party client only
 * when the user granted `offline_access` (so it is in the granted scope).
 */
export const getsRefreshToken = (
  client: { first_party: boolean; grant_types: readonly string[] },
  granted: readonly Scope[],
): boolean =>
  client.grant_types.includes('refresh_token') &&
  (client.first_party || granted.includes('offline_access'))
