import { createHash, randomBytes } from 'node:crypto'
import type { Clock } from '../../domain/time.js'
import { KeygateError } from '../../errors.js'
import type { PasskeysRepo, WebauthnChallenge } from '../../repos/accounts/passkeys.js'

/** Challenges live 5 minutes, the ceremony timeout the browser is given too. */
export const CHALLENGE_TTL_MS = 5 * 60_000

const hashHandle = (handle: string) => createHash('sha256').update(handle).digest('hex')

/**
 * WebAuthn challenges kept server-side (W3C WebAuthn §13.4.3: the RP must
 * remember the challenge it sent). Each is stored under the SHA-256 of a
 * fresh random handle that the browser holds; the client never supplies the
 * challenge itself, only the handle, and a handle opens one ceremony once.
 */
export function createChallengeStore(
  clock: Clock,
  repo: Pick<PasskeysRepo, 'insertChallenge' | 'consumeChallenge'>,
) {
  return {
    /** Stores the challenge; answers the handle for the browser's cookie. */
    async remember(c: WebauthnChallenge): Promise<string> {
      const handle = randomBytes(32).toString('base64url')
      const now = clock.now()
      await repo.insertChallenge(hashHandle(handle), c, now, new Date(+now + CHALLENGE_TTL_MS))
      return handle
    },

    /** Spends the handle's challenge: single use, even when the ceremony then fails. */
    async spend(handle: string | undefined, purpose: WebauthnChallenge['purpose']) {
      const c = handle ? await repo.consumeChallenge(hashHandle(handle), clock.now()) : undefined
      if (!c || c.purpose !== purpose) throw new KeygateError('PASSKEY_CHALLENGE_INVALID')
      return c
    },
  }
}
