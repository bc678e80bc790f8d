import type { ColumnType, Generated } from 'kysely'

// Timestamps are written as ISO-8601 strings (UTC, ms) on both dialects:
// SQLite stores TEXT that sorts chronologically, PostgreSQL parses them into
// timestamptz and reads back Date. Booleans are written as 0/1, which both accept.
type Timestamp = ColumnType<Date | string, string, string>
type Bool = ColumnType<boolean | number, number, number>

export interface UsersTable {
  id: string
  email: string
  /** lower-cased email: the unique key, so uniqueness holds in the database */
  email_normalized: string
  username: string | null
  username_normalized: string | null
  hashed_password: string
  is_active: Bool
  is_superuser: Bool
  created_at: Timestamp
  updated_at: Timestamp
  /** defaults to false (0) on insert */
  email_verified: ColumnType<boolean | number, number | undefined, number>
}

export interface SessionsTable {
  id: string
  user_id: string
  client_id: string
  created_at: Timestamp
  last_used_at: Timestamp
  /** idle limit: moves forward on every refresh, never past max_expires_at */
  expires_at: Timestamp
  /** absolute limit (SESSION_MAX_DAYS) */
  max_expires_at: Timestamp
  revoked_at: Timestamp | null
  user_agent: string | null
  ip: string | null
  /** set by a password change: the one access token (jti) of this session still accepted */
  pinned_jti: string | null
  /** the scope granted to this refresh family, space-separated; NULL: from before scopes (all the user may hold) */
  scope: string | null
  /** a browser session's cookie, as its SHA-256 (hex); null for every other session */
  cookie_hash: string | null
  /** the browser session an authorization opened this session from */
  parent_id: string | null
  /** when the person last proved who they are in this session (OIDC `auth_time`) */
  auth_time: Timestamp | null
  /** how they did, space-separated RFC 8176 values (`pwd`, `otp`, `hwk`, `mfa`) */
  amr: string | null
}

export interface RefreshTokensTable {
  /** SHA-256 of the opaque token; the token itself is never stored */
  token_hash: string
  session_id: string
  created_at: Timestamp
  expires_at: Timestamp
  /** set when rotated; a second use after the grace window is reuse */
  used_at: Timestamp | null
  /** the token this one was rotated into, sealed under a key derived from this token */
  successor: string | null
}

export interface PostsTable {
  id: string
  owner_id: string
  title: string
  content: string
  published: Bool
  created_at: Timestamp
  updated_at: Timestamp
}

export interface PasswordResetTokensTable {
  /** several may be live per user: a new request does not cancel a mailed link */
  user_id: string
  /** SHA-256 of the token; the token itself is never stored */
  token_hash: string
  created_at: Timestamp
  expires_at: Timestamp
}

export interface ServerSecretsTable {
  /** what the secret is for */
  name: string
  /** base64url random bytes; used only while SECRET_KEY is unset */
  value: string
  created_at: Timestamp
}

export interface ClientsTable {
  client_id: string
  name: string
  type: 'public' | 'confidential'
  /** SHA-256 (hex) of the secret of a confidential client; the secret itself is never stored */
  secret_hash: string | null
  /** JSON arrays of strings */
  redirect_uris: string
  post_logout_redirect_uris: string
  grant_types: string
  scopes: string
  first_party: Bool
  created_at: Timestamp
  updated_at: Timestamp
}

export interface ConsentsTable {
  user_id: string
  client_id: string
  /** the scopes the user granted this client, space-separated: the union of every grant */
  scope: string
  created_at: Timestamp
  updated_at: Timestamp
}

export interface AuditEventsTable {
  /** grows only: the pagination cursor */
  id: Generated<number>
  created_at: Timestamp
  type: string
  user_id: string | null
  actor_id: string | null
  client_id: string | null
  ip: string | null
  user_agent: string | null
  request_id: string | null
  /** a small JSON object; never a secret */
  details: string
  /** attempts folded into this row (failed sign-ins) */
  count: Generated<number>
  /** the fold key of failed sign-ins: a digest of type, account, client and minute */
  bucket: string | null
}

export interface EmailTokensTable {
  /** SHA-256 of the mailed token */
  token_hash: string
  user_id: string
  /** the address the link moves the account to; null: it verifies the current one */
  new_email: string | null
  created_at: Timestamp
  expires_at: Timestamp
}

export interface TotpFactorsTable {
  user_id: string
  /** AES-256-GCM under a key derived from the server secret (services/factors/totp.ts) */
  secret_sealed: string
  created_at: Timestamp
  confirmed_at: Timestamp | null
  last_step: ColumnType<number | string | bigint | null, number | null, number | null>
}

export interface RecoveryCodesTable {
  code_hash: string
  user_id: string
  created_at: Timestamp
}

export interface MfaChallengesTable {
  token_hash: string
  user_id: string
  client_id: string
  failures: Generated<number>
  created_at: Timestamp
  expires_at: Timestamp
}

/** OAuth authorization codes (RFC 6749 §4.1.2), stored as hashes, single use. */
export interface AuthorizationCodesTable {
  code_hash: string
  client_id: string
  redirect_uri: string
  code_challenge: string
  /** space-separated granted scopes */
  scope: string
  nonce: string | null
  user_id: string
  browser_session_id: string
  auth_time: Timestamp
  /** space-separated RFC 8176 methods */
  amr: string
  created_at: Timestamp
  expires_at: Timestamp
  used_at: Timestamp | null
  issued_session_id: string | null
}

export interface RevocationsTable {
  /** the feed's monotonic cursor (PostgreSQL bigserial reads back as a string) */
  cursor: ColumnType<number | string, never, never>
  /** a revoked session, or */
  sid: string | null
  /** every token of a user issued up to `at` */
  sub: string | null
  /** when the last access token this entry covers expires; pruned after */
  until: Timestamp
  at: Timestamp
  /** set on a `sid` entry: this one access token of the session is still accepted */
  keep_jti: string | null
}

export interface PasskeysTable {
  id: string
  user_id: string
  /** base64url credential id, unique */
  credential_id: string
  /** base64url COSE public key */
  public_key: string
  counter: ColumnType<number | string | bigint, number, number>
  /** JSON array of transports, or null */
  transports: string | null
  /** 'singleDevice' | 'multiDevice' (WebAuthn backup eligibility) */
  device_type: string
  backed_up: Bool
  name: string
  created_at: Timestamp
  last_used_at: Timestamp | null
}

export interface WebauthnChallengesTable {
  /** SHA-256 of the random handle in the browser's cookie */
  handle_hash: string
  /** 'register' | 'authenticate' */
  purpose: string
  user_id: string | null
  /** base64url challenge sent in the options */
  challenge: string
  created_at: Timestamp
  expires_at: Timestamp
}

export interface DB {
  users: UsersTable
  sessions: SessionsTable
  refresh_tokens: RefreshTokensTable
  posts: PostsTable
  password_reset_tokens: PasswordResetTokensTable
  server_secrets: ServerSecretsTable
  clients: ClientsTable
  authorization_codes: AuthorizationCodesTable
  audit_events: AuditEventsTable
  email_tokens: EmailTokensTable
  totp_factors: TotpFactorsTable
  recovery_codes: RecoveryCodesTable
  mfa_challenges: MfaChallengesTable
  revocations: RevocationsTable
  passkeys: PasskeysTable
  webauthn_challenges: WebauthnChallengesTable
  consents: ConsentsTable
}
