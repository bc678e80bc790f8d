/**
 * The audit log's event types (SPEC §10). Other features add theirs here; a
 * name is past tense, `subject_verb`, and never changes once shipped (log
 * shippers filter on it).
 */
export const AUDIT_EVENT_TYPES = [
  'sign_in_succeeded',
  'sign_in_failed',
  'token_refreshed',
  'refresh_reuse_detected',
  'logged_out',
  'session_revoked',
  'password_changed',
  'password_reset_requested',
  'password_reset_completed',
  'profile_updated',
  'email_changed',
  'user_created',
  'users_imported',
  'user_deleted',
  'user_deactivated',
  'user_reactivated',
  'user_promoted',
  'user_demoted',
  'sessions_revoked_by_admin',
  'client_created',
  'client_updated',
  'client_deleted',
  'client_secret_rotated',
  'email_verification_requested',
  'email_verified',
  'email_change_requested',
  'factor_enrolled',
  'factor_removed',
  'factor_used',
  'recovery_code_used',
  'recovery_codes_regenerated',
  'consent_granted',
  'consent_withdrawn',
] as const

export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number]

/** Why a sign-in failed (`details.reason` of `sign_in_failed`). */
export type SignInFailure =
  | 'unknown_account'
  | 'wrong_password'
  | 'inactive'
  | 'throttled'
  | 'second_factor_failed'

/** Small, flat, never a password, token, code, secret or hash. */
export type AuditDetails = Record<string, string | number | boolean | null>

/** Where a change came from, as the HTTP layer (or CLI) saw it. */
export interface AuditSource {
  /** who did it, when not the subject themself (an admin) */
  actorId?: string
  clientId?: string
  ip?: string
  userAgent?: string
  requestId?: string
}

/** What a service hands to `audit.record`. */
export interface NewAuditEvent {
  type: AuditEventType
  /** the account the event is about (null: unknown account) */
  userId?: string | null
  source?: AuditSource
  details?: AuditDetails
}

export interface AuditEvent {
  id: number
  created_at: Date
  type: string
  user_id: string | null
  actor_id: string | null
  client_id: string | null
  ip: string | null
  user_agent: string | null
  request_id: string | null
  details: AuditDetails
  /** attempts folded into this row (failed sign-ins, per minute); 1 otherwise */
  count: number
}

export interface AuditFilter {
  userId?: string
  type?: string
  since?: Date
  until?: Date
  /** only events with a smaller id (the previous page's cursor) */
  before?: number
  limit: number
}
