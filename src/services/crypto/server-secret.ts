import { hkdfSync, randomBytes } from 'node:crypto'

/** Keys for Keygate's own MACs and seals, each derived for one purpose from SECRET_KEY. */
export interface ServerSecret {
  /** a 32-byte key for `purpose` (HKDF-SHA256, RFC 5869): purposes never share a key */
  key(purpose: string): Buffer
  /** true when SECRET_KEY is unset and the keys live only as long as this process */
  ephemeral: boolean
}

/**
 * SECRET_KEY is the server's secret for every algorithm (for HS256 it also
 * signs tokens; the derived keys never equal it). Without one (an asymmetric
 * algorithm and no SECRET_KEY) a random secret lasts for this process only:
 * device cookies then end with a restart and several instances key their
 * shared throttle counters apart, which is why start-up warns about it.
 */
export function createServerSecret(secretKey: string | undefined): ServerSecret {
  const ikm = secretKey === undefined ? randomBytes(32) : Buffer.from(secretKey, 'utf8')
  const cache = new Map<string, Buffer>()
  return {
    ephemeral: secretKey === undefined,
    key(purpose) {
      let k = cache.get(purpose)
      if (!k) {
        k = Buffer.from(hkdfSync('sha256', ikm, 'keygate', purpose, 32))
        cache.set(purpose, k)
      }
      return k
    },
  }
}
