import { hkdfSync, randomBytes } from 'node:crypto'
import type { Clock } from '../../domain/time.js'
import type { ServerSecretsRepo } from '../../repos/support/server-secrets.js'

/** Keys for Keygate's own MACs and seals, each derived for one purpose from the server secret. */
export interface ServerSecret {
  /** a 32-byte key for `purpose` (HKDF-SHA256, RFC 5869): purposes never share a key */
  key(purpose: string): Buffer
  /** where the secret came from: SECRET_KEY, or the database when SECRET_KEY is unset */
  source: 'SECRET_KEY' | 'database'
}

/** Derives per-purpose keys from `ikm`. */
export function createServerSecret(
  ikm: string,
  source: ServerSecret['source'] = 'SECRET_KEY',
): ServerSecret {
  const cache = new Map<string, Buffer>()
  return {
    source,
    key(purpose) {
      let k = cache.get(purpose)
      if (!k) {
        k = Buffer.from(hkdfSync('sha256', Buffer.from(ikm, 'utf8'), 'keygate', purpose, 32))
        cache.set(purpose, k)
      }
      return k
    },
  }
}

/**
 * SECRET_KEY is the server's secret for every algorithm (for HS256 it also
 * signs tokens; the derived keys never equal it). With an asymmetric
 * algorithm it may be unset: then a random secret is made once and kept in
 * the database, so that every instance derives the same keys (shared
 * throttle counters, device cookies and refresh seals that work on any
 * instance) and restarts keep them. Setting SECRET_KEY keeps it out of the
 * database, which is better.
 */
export async function loadServerSecret(
  secretKey: string | undefined,
  repo: ServerSecretsRepo,
  clock: Clock,
): Promise<ServerSecret> {
  if (secretKey !== undefined) return createServerSecret(secretKey)
  const candidate = randomBytes(32).toString('base64url')
  const stored = await repo.getOrCreate('server', candidate, clock.now())
  return createServerSecret(stored, 'database')
}
