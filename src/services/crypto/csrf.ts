import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

// 32 bytes as base64url.
const SECRET = /^[A-Za-z0-9_-]{43}$/

/**
 * CSRF tokens of the hosted pages (OWASP's signed double-submit cookie): the
 * browser holds a random secret in an HttpOnly cookie, and every form carries
 * HMAC(server key, secret). A site that cannot read the cookie cannot forge
 * the field, and one that plants a cookie cannot sign it. The HTTP side (the
 * cookie, the `Origin` check) lives in http/pages/kit/page-context.ts.
 */
export function createCsrfTokens(key: Uint8Array) {
  const sign = (secret: string) =>
    createHmac('sha256', key).update(`csrf.${secret}`).digest('base64url')

  return {
    /** A new browser secret for the cookie. */
    newSecret: (): string => randomBytes(32).toString('base64url'),

    /** Whether a cookie value is a secret this service could have made. */
    isSecret: (value: string | undefined): value is string =>
      value !== undefined && SECRET.test(value),

    /** The form field's value for this browser's secret. */
    tokenFor: sign,

    /** Constant-time check of a submitted token against the browser's secret. */
    verify(secret: string | undefined, token: unknown): boolean {
      if (secret === undefined || !SECRET.test(secret) || typeof token !== 'string') return false
      const given = Buffer.from(token)
      const wanted = Buffer.from(sign(secret))
      return given.length === wanted.length && timingSafeEqual(given, wanted)
    },
  }
}
