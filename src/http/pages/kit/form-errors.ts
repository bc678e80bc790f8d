import { type ErrorName, KeygateError, ValidationError } from '../../../errors.js'
import type { FieldErrors } from './layout.js'

/**
 * What a page says, next to which field ('' for the whole form), for each
 * service error it expects. Expected errors re-render the form; anything
 * else goes on to the error page.
 */
export type ExpectedErrors = Partial<Record<ErrorName, [field: string, message: string]>>

/** The form errors a service failure means, or the failure rethrown. */
export function formErrorsOf(err: unknown, expected: ExpectedErrors): FieldErrors {
  if (err instanceof KeygateError) {
    const known = expected[err.code]
    if (known) return { [known[0]]: known[1] }
  }
  // The password policy's refusals, in its own words.
  if (err instanceof ValidationError) {
    return Object.fromEntries(err.issues.map((issue) => [issue.field, issue.msg]))
  }
  throw err
}

/** A service call whose expected refusals come back as form errors (others are thrown on). */
export const attempt = <T>(
  work: Promise<T>,
  expected: ExpectedErrors,
): Promise<{ ok: T; errors?: undefined } | { ok?: undefined; errors: FieldErrors }> =>
  work.then(
    (ok) => ({ ok }),
    (err: unknown) => ({ errors: formErrorsOf(err, expected) }),
  )
