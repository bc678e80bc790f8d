import {
  type AuthenticationResponseJSON,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server'
import type { Passkey } from '../../domain/passkey.js'
import { KeygateError } from '../../errors.js'
import type { WebauthnChallenge } from '../../repos/accounts/passkeys.js'

/** Where a ceremony must have happened: PUBLIC_URL's origin and host (the RP ID). */
export interface RelyingParty {
  origin: string
  rpID: string
}

/** One answer for every failed check, so a caller learns nothing about which one failed. */
export const rejected = () => new KeygateError('PASSKEY_REJECTED')

/**
 * A new credential's attestation, checked against the stored challenge, the
 * origin, the RP ID and user verification (@simplewebauthn/server).
 */
export async function checkAttestation(
  rp: RelyingParty,
  challenge: string,
  response: RegistrationResponseJSON,
) {
  try {
    const result = await verifyRegistrationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.rpID,
      requireUserVerification: true,
    })
    if (result.verified) return result.registrationInfo
  } catch {
    // the library throws for every failed check: one answer for all
  }
  throw rejected()
}

/**
 * An assertion by a stored passkey: the credential must belong to the user
 * the challenge was for or, passwordless, to the user the authenticator
 * names (WebAuthn §7.2 step 6); then signature, challenge, origin, RP ID,
 * user verification and a growing counter (a clone shows as one that did not grow).
 */
export async function checkAssertion(
  rp: RelyingParty,
  c: WebauthnChallenge,
  passkey: Passkey | undefined,
  response: AuthenticationResponseJSON,
) {
  if (!passkey) throw rejected()
  if (c.user_id !== null && c.user_id !== passkey.user_id) throw rejected()
  const userHandle = response.response.userHandle
  if (c.user_id === null && !userHandle) throw rejected()
  if (userHandle && Buffer.from(userHandle, 'base64url').toString() !== passkey.user_id) {
    throw rejected()
  }
  try {
    const result = await verifyAuthenticationResponse({
      response,
      expectedChallenge: c.challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.rpID,
      credential: {
        id: passkey.credential_id,
        publicKey: passkey.public_key,
        counter: passkey.counter,
        transports: passkey.transports,
      },
      requireUserVerification: true,
    })
    if (result.verified) return result.authenticationInfo
  } catch {
    // as above
  }
  throw rejected()
}
