import { fullFormats } from 'ajv-formats/dist/formats.js'

/** An account as services see it; `hashed_password` never leaves through an `*Out` schema. */
export interface User {
  id: string
  email: string
  username: string | null
  hashed_password: string
  is_active: boolean
  is_superuser: boolean
  /** the owner followed a link mailed to `email` (SPEC §9) */
  email_verified: boolean
  created_at: Date
  updated_at: Date
}

/** A new account is unverified unless said otherwise (an import may say so). */
export type NewUser = Omit<User, 'updated_at' | 'email_verified'> & { email_verified?: boolean }

/** Emails and usernames are unique case-insensitively, after trimming (SPEC §3). */
export const normalizeEmail = (email: string): string => email.trim().toLowerCase()
export const normalizeUsername = (username: string): string => username.trim().toLowerCase()

// The same rules the HTTP schemas apply (schemas/users.ts: ajv-formats' `email`,
// the Username pattern), for input that does not come through HTTP: the CLI and imports.
const EMAIL = fullFormats.email as RegExp
const USERNAME = /^[A-Za-z0-9_.-]{3,32}$/

/**
 * RFC 5321 §4.5.3.1.1 and §4.5.3.1.3: a local part holds at most 64 octets and
 * a forward path 256, of which `<` and `>` take two, so an address is at most
 * 254. A longer one cannot be delivered to, so it is refused rather than stored.
 * The pattern is ASCII-only, so characters and octets count alike.
 */
export const EMAIL_MAX_LENGTH = 254
const EMAIL_LOCAL_MAX_LENGTH = 64

/** A trimmed email as signup accepts it (SPEC §3). */
export const isValidEmail = (email: string): boolean =>
  email.length <= EMAIL_MAX_LENGTH &&
  email.lastIndexOf('@') <= EMAIL_LOCAL_MAX_LENGTH &&
  EMAIL.test(email)

/** 3–32 letters, digits, `_ . -`; never `@`, so the login field is unambiguous (SPEC §3). */
export const isValidUsername = (username: string): boolean => USERNAME.test(username)
