import type { Scope } from './scopes.js'
import { DAY_MS } from './time.js'
import type { User } from './user.js'

/** A sign-in: one refresh family, revoked as a whole (SPEC §3 tokens). */
export interface Session {
  id: string
  user_id: string
  client_id: string
  created_at: Date
  last_used_at: Date
  expires_at: Date
  max_expires_at: Date
  revoked_at: Date | null
  user_agent: string | null
  ip: string | null
  /** the scope granted to this refresh family (space-separated); null: from before scopes */
  scope: string | null
  /** the browser session this one was opened from by an authorization (SPEC §7) */
  parent_id: string | null
  /** when the person authenticated (OIDC `auth_time`); null for sessions of Part I */
  auth_time: Date | null
  /** RFC 8176 methods of that authentication, e.g. ['pwd'] */
  amr: string[]
}

/** A session to insert: the browser-session fields are optional (Part I sessions have none). */
export type NewSession = Omit<Session, 'revoked_at' | 'parent_id' | 'auth_time' | 'amr'> &
  Partial<Pick<Session, 'parent_id' | 'auth_time' | 'amr'>>

/** RFC 8176 `amr` of a password sign-in, and of one completed with a TOTP or recovery code. */
export const AMR_PASSWORD = ['pwd']
export const AMR_PASSWORD_OTP = ['pwd', 'otp', 'mfa']

/** The client an empty `client_id` means: Swagger UI and Part I callers. */
export const DEFAULT_CLIENT_ID = 'keygate'

/** Who is asking, as the HTTP layer (or CLI) saw it. */
export interface ClientContext {
  clientId?: string
  userAgent?: string
  ip?: string
  /** the known-device marker the client presented (services/sessions/known-device.ts) */
  device?: string
  /** the request's id (X-Request-ID), carried into audit events */
  requestId?: string
}

/** RFC 6749 §5.1 token response. */
export interface TokenPair {
  access_token: string
  token_type: 'bearer'
  expires_in: number
  refresh_token: string
  /** RFC 6749 §5.1: the access token's scope, space-separated */
  scope: string
}

/** A password sign-in's answer: the pair, and the known-device marker for the client to keep. */
export type SignIn = TokenPair & { device?: string }

/** The caller of a protected route, set by the bearer guard. */
export interface AuthContext {
  user: User
  sessionId: string
  /** the access token's `jti` and `exp` (seconds), when the caller came with one */
  tokenId?: string
  tokenExpiresAt?: number
  /** the scopes the caller's token carries (a token from before scopes: all its user may hold) */
  scope: readonly Scope[]
}

/** Not revoked, not idle past REFRESH_TOKEN_EXPIRE_DAYS, not past SESSION_MAX_DAYS. */
export const isLive = (s: Session, now: Date): boolean =>
  s.revoked_at === null && s.expires_at > now && s.max_expires_at > now

/** The idle limit after a use at `now`: it moves forward, never past the absolute limit. */
export const idleExpiry = (now: Date, refreshDays: number, maxExpiresAt: Date): Date =>
  new Date(Math.min(now.getTime() + refreshDays * DAY_MS, maxExpiresAt.getTime()))
