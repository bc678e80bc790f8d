import { createHash, timingSafeEqual } from 'node:crypto'
import { KeygateError } from '../../errors.js'

const digest = (s: string) => createHash('sha256').update(s).digest()

/**
 * Who may read /metrics on the main port: the holder of METRICS_TOKEN, and
 * nobody else (not even a superuser's token: scrapers hold a static secret).
 * Compared in constant time over SHA-256 digests, so neither content nor
 * length leaks through timing.
 */
export function createScrapeAccess(token: string) {
  const expected = digest(token)
  return function authorizeScrape(bearer: string): void {
    if (!timingSafeEqual(digest(bearer), expected)) throw new KeygateError('FORBIDDEN')
  }
}
