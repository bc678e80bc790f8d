import { KeygateError } from '../errors.js'

/** Every scope Keygate knows (SPEC §6), in the order discovery lists them. */
export const SCOPES = [
  'openid',
  'profile',
  'email',
  'offline_access',
  'posts:write',
  'account',
  'admin',
] as const

export type Scope = (typeof SCOPES)[number]

/** Each scope in plain words: the OpenAPI security scheme and the consent page show these. */
export const SCOPE_DESCRIPTIONS: Readonly<Record<Scope, string>> = Object.freeze({
  openid: 'Sign you in with your Keygate account',
  profile: 'See your username',
  email: 'See your email address and whether it is verified',
  offline_access: 'Stay signed in when you are away (a refresh token)',
  'posts:write': 'Create, edit and delete your posts',
  account:
    'Change your profile, email and password, manage your sessions and second factors, delete your account',
  admin: 'Manage every user and client (superusers only)',
})

const KNOWN = new Set<string>(SCOPES)

export const isScope = (name: string): name is Scope => KNOWN.has(name)

/** Scopes in canonical order, without repeats. */
const ordered = (scopes: Iterable<string>): Scope[] => {
  const set = new Set(scopes)
  return SCOPES.filter((s) => set.has(s))
}

/** The names in an RFC 6749 §3.3 scope string (space-delimited); empty for none. */
export const scopeNames = (value: string | undefined): string[] =>
  value === undefined ? [] : value.split(' ').filter((s) => s !== '')

/**
 * The scopes a requested `scope` parameter names. An unknown or malformed
 * name is `invalid_scope` (RFC 6749 §5.2); undefined when nothing was asked.
 */
export function parseRequestedScope(value: string | undefined): Scope[] | undefined {
  const names = scopeNames(value)
  if (names.length === 0) return undefined
  if (!names.every(isScope)) throw new KeygateError('INVALID_SCOPE')
  return ordered(names)
}

/** The known scopes a stored or signed scope string names (unknown names are ignored). */
export const scopesIn = (value: string): Scope[] => ordered(scopeNames(value).filter(isScope))

/** The space-separated form tokens, responses and the database carry. */
export const formatScope = (scopes: readonly Scope[]): string => ordered(scopes).join(' ')

/** What a user may hold: every scope but `admin`, which only superusers get (SPEC §6). */
export const scopesUserMayHold = (user: { is_superuser: boolean }): Scope[] =>
  SCOPES.filter((s) => s !== 'admin' || user.is_superuser)

/**
 * The scopes a token or a refresh family holds now: what it carries, within
 * what its user may hold today (a demoted superuser's token loses `admin`).
 * Undefined (a token or session from before scopes) holds all the user may.
 */
export function tokenScope(carried: string | null | undefined, user: { is_superuser: boolean }) {
  const userMay = scopesUserMayHold(user)
  if (carried === undefined || carried === null) return userMay
  const held = scopesIn(carried)
  return userMay.filter((s) => held.includes(s))
}

export interface GrantScopeInput {
  /** the `scope` parameter as sent (undefined or blank: none asked for) */
  requested: string | undefined
  /** scopesUserMayHold(user) */
  userMay: readonly Scope[]
  /** the client's allowed scopes; undefined for the built-in client (no limit) */
  clientAllows?: readonly string[]
  /** what the user consented to, for a third-party client */
  consented?: readonly string[]
}

/**
 * The scope a grant issues: requested ∩ what the user may hold ∩ what the
 * client allows (∩ what was consented). Asking for nothing gets the default
 * of RFC 6749 §3.3: everything the user may hold that the client allows
 * (Part I behaviour for the password grant and first-party clients).
 *
 * An unknown name is `invalid_scope` (§5.2: "unknown, malformed"). A known
 * scope the user or client may not have is dropped rather than refused: §3.3
 * lets the server "fully or partially ignore the scope requested", and the
 * token response's `scope` then tells the client what it got. So a client
 * asking for `posts:write admin` works for any user, and only a superuser's
 * token carries `admin`. When nothing at all is left, the request cannot be
 * granted: `invalid_scope`.
 */
export function grantScope(input: GrantScopeInput): Scope[] {
  const requested = parseRequestedScope(input.requested)
  const allowed = (s: Scope) =>
    input.userMay.includes(s) &&
    (input.clientAllows === undefined || input.clientAllows.includes(s)) &&
    (input.consented === undefined || input.consented.includes(s))
  const granted = (requested ?? SCOPES).filter(allowed)
  if (requested !== undefined && granted.length === 0) throw new KeygateError('INVALID_SCOPE')
  return ordered(granted)
}

/**
 * A refresh's scope (RFC 6749 §6): what was asked, which must lie within the
 * family's grant ("MUST NOT include any scope not originally granted" →
 * `invalid_scope`); nothing asked keeps the whole grant. The family's grant
 * itself never changes, so a later refresh may ask for the wider scope again.
 */
export function narrowScope(requested: string | undefined, granted: readonly Scope[]): Scope[] {
  const asked = parseRequestedScope(requested)
  if (asked === undefined) return [...granted]
  if (!asked.every((s) => granted.includes(s))) throw new KeygateError('INVALID_SCOPE')
  return asked
}
