import { fullFormats } from 'ajv-formats/dist/formats.js'

// The same rules the HTTP schemas apply (schemas/users.ts: ajv-formats' `email`,
// the Username pattern), for input that does not come through HTTP: the CLI and imports.
const EMAIL = fullFormats.email as RegExp
const USERNAME = /^[A-Za-z0-9_.-]{3,32}$/

/** A trimmed email as signup accepts it (SPEC §3). */
export const isValidEmail = (email: string): boolean => email.length <= 320 && EMAIL.test(email)

/** 3–32 letters, digits, `_ . -`; never `@`, so the login field is unambiguous (SPEC §3). */
export const isValidUsername = (username: string): boolean => USERNAME.test(username)
