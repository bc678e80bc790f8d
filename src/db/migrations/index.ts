import type { Migration } from 'kysely'
import * as m0001 from './0001_users.js'
import * as m0002 from './0002_sessions.js'
import * as m0003 from './0003_posts.js'
import * as m0004 from './0004_refresh_token_expiry.js'
import * as m0005 from './0005_password_reset_tokens.js'
import * as m0006 from './0006_session_hardening.js'
import * as m0007 from './0007_clients.js'
import * as m0008 from './0008_session_scope.js'
import * as m0009 from './0009_browser_sessions.js'
import * as m0010 from './0010_authorization_codes.js'
import * as m0011 from './0011_audit_events.js'
import * as m0012 from './0012_revocation_feed.js'
import * as m0013 from './0013_email_and_factors.js'
import * as m0014 from './0014_passkeys.js'
import * as m0015 from './0015_consents.js'

/** Every migration, in order. Listed, not scanned, so tsx, dist/ and bundles agree. */
export const migrations: Record<string, Migration> = {
  '0001_users': m0001,
  '0002_sessions': m0002,
  '0003_posts': m0003,
  '0004_refresh_token_expiry': m0004,
  '0005_password_reset_tokens': m0005,
  '0006_session_hardening': m0006,
  '0007_clients': m0007,
  '0008_session_scope': m0008,
  '0009_browser_sessions': m0009,
  '0010_authorization_codes': m0010,
  '0011_audit_events': m0011,
  '0012_revocation_feed': m0012,
  '0013_email_and_factors': m0013,
  '0014_passkeys': m0014,
  '0015_consents': m0015,
}
