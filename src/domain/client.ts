/** What a registered client may use the token endpoint for (SPEC §6). */
export type GrantType = 'authorization_code' | 'refresh_token' | 'client_credentials' | 'password'

/** An application registered with Keygate (SPEC §6). The secret is kept only as a hash. */
export interface Client {
  client_id: string
  name: string
  type: 'public' | 'confidential'
  redirect_uris: string[]
  post_logout_redirect_uris: string[]
  grant_types: GrantType[]
  scopes: string[]
  /** skips the consent page */
  first_party: boolean
  created_at: Date
  updated_at: Date
}

export const GRANT_TYPES: readonly GrantType[] = [
  'authorization_code',
  'refresh_token',
  'client_credentials',
  'password',
]

/** What a superuser sends to register a client; the service fills in the rest (SPEC §6 defaults). */
export interface ClientInput {
  name: string
  type: Client['type']
  redirect_uris?: string[]
  post_logout_redirect_uris?: string[]
  grant_types?: GrantType[]
  scopes?: string[]
  first_party?: boolean
}

/** A change to a registered client: any of its settings but the id and the type. */
export type ClientPatch = Partial<Omit<ClientInput, 'type'>>

/**
 * Whether a client_credentials token of this client is still good: the client
 * exists (checked by the caller) and is still registered for that grant.
 */
export const holdsClientTokens = (c: Client | undefined): boolean =>
  c?.type === 'confidential' && c.grant_types.includes('client_credentials')
