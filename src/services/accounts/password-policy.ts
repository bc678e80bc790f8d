import { createRequire } from 'node:module'
import { type FieldIssue, fieldIssue, ValidationError } from '../../errors.js'

export const MAX_PASSWORD_LENGTH = 1024

// NIST SP 800-63B-4 §3.1.1.2: new passwords are checked against a list of
// commonly used ones. The list ships with the package (offline) and is loaded
// once into a Set on first use (not at start: idle memory), so a lookup is one hash probe.
let common: ReadonlySet<string> | undefined
function commonPasswords(): ReadonlySet<string> {
  if (common) return common
  const { dictionary } = createRequire(import.meta.url)(
    '@zxcvbn-ts/language-common',
  ) as typeof import('@zxcvbn-ts/language-common')
  common = new Set(dictionary['passwords-common'].map((p) => p.toLowerCase()))
  return common
}

/** How many passwords the bundled list refuses. */
export const commonPasswordCount = (): number => commonPasswords().size

/** True when the password, compared case-insensitively, is on the common list. */
export const isCommonPassword = (password: string): boolean =>
  commonPasswords().has(password.toLowerCase())

/** The rules every new password meets (signup, change, reset; not login). */
export function createPasswordPolicy(minLength: number) {
  /** Why the password is not acceptable as `field`; undefined when it is. */
  function problem(password: string, field: string): FieldIssue | undefined {
    // Characters as the user sees them (code points), as the request schema counts them.
    const length = [...password].length
    if (length < minLength) return fieldIssue(field, 'tooShort', { limit: minLength })
    if (length > MAX_PASSWORD_LENGTH) {
      return fieldIssue(field, 'tooLong', { limit: MAX_PASSWORD_LENGTH })
    }
    if (isCommonPassword(password)) return fieldIssue(field, 'commonPassword')
    return undefined
  }

  return {
    minLength,
    problem,
    /** Throws a 422 when the password is not acceptable. */
    check(password: string, field: string): void {
      const issue = problem(password, field)
      if (issue) throw new ValidationError([issue])
    },
  }
}

export type PasswordPolicy = ReturnType<typeof createPasswordPolicy>
