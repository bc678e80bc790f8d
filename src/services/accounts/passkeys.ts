import { randomUUID } from 'node:crypto'
import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server'
import type { Config } from '../../config.js'
import { isUniqueViolation } from '../../db/unique-violation.js'
import { type Passkey, passkeyAmr } from '../../domain/passkey.js'
import type { ClientContext } from '../../domain/session.js'
import type { Clock } from '../../domain/time.js'
import type { User } from '../../domain/user.js'
import { fieldIssue, KeygateError, ValidationError } from '../../errors.js'
import type { PasskeysRepo } from '../../repos/accounts/passkeys.js'
import type { UsersRepo } from '../../repos/accounts/users.js'
import type { AuditEventsRepo } from '../../repos/audit-events.js'
import type { Transact } from '../../repos/support/transaction.js'
import { signInFailure } from '../audit/sign-in-failure.js'
import { CHALLENGE_TTL_MS, createChallengeStore } from './webauthn-challenges.js'
import { checkAssertion, checkAttestation, rejected } from './webauthn-checks.js'

export interface PasskeysServiceDeps {
  config: Pick<Config, 'publicUrl'>
  clock: Clock
  passkeys: PasskeysRepo
  users: Pick<UsersRepo, 'findById'>
  /** a change and its audit event commit together (SPEC §10) */
  transact: Transact
  /** failed second steps, folded as the factors service folds them */
  audit: AuditEventsRepo
}

/** A ceremony's options for the browser, and the handle the browser must hold (a cookie). */
export interface Ceremony<T> {
  options: T
  handle: string
}

/** A verified passkey sign-in: who, with which credential, and RFC 8176 `amr`. */
export interface PasskeySignIn {
  user: User
  passkey: Passkey
  amr: ReturnType<typeof passkeyAmr>
}

/** A passkey is added only within 10 minutes of signing in (the browser session's auth_time). */
export const FRESH_SIGN_IN_MS = 10 * 60_000
// Bounds excludeCredentials and the account page; no one needs more.
const MAX_PASSKEYS_PER_USER = 20
const RP_NAME = 'Keygate'
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * WebAuthn registration and sign-in (SPEC §9) with @simplewebauthn/server.
 * The RP ID is PUBLIC_URL's host and the only accepted origin is PUBLIC_URL's
 * origin; user verification is required in both ceremonies.
 */
export function createPasskeysService(deps: PasskeysServiceDeps) {
  const { clock, passkeys, users, transact, audit } = deps
  const factor = { factor: 'passkey' }
  const url = new URL(deps.config.publicUrl)
  const rpID = url.hostname
  const origin = url.origin
  const rp = { rpID, origin }

  const challenges = createChallengeStore(clock, passkeys)

  /** Adding a factor needs a recent sign-in, so a borrowed or stolen session cannot plant one. */
  const canRegister = (authTime: Date | null): boolean =>
    authTime !== null && clock.now().getTime() - authTime.getTime() <= FRESH_SIGN_IN_MS
  const requireFresh = (authTime: Date | null) => {
    if (!canRegister(authTime)) throw new KeygateError('PASSKEY_REAUTH_REQUIRED')
  }

  /** A refused passkey at a sign-in's second step: sign_in_failed, second_factor_failed. */
  async function secondFactorFailed(userId: string, source: ClientContext) {
    const user = await users.findById(userId)
    const refusal = new KeygateError('INVALID_MFA')
    // signInFailure records, then rethrows; the caller throws its own answer.
    await signInFailure(audit, user, source, clock.now(), refusal).catch(() => undefined)
  }

  const owned = async (userId: string, id: string): Promise<Passkey> => {
    const found = UUID.test(id) && (await passkeys.listForUser(userId)).find((p) => p.id === id)
    if (!found) throw new KeygateError('PASSKEY_NOT_FOUND')
    return found
  }

  return {
    rpID,
    origin,
    /** Whether a sign-in at `authTime` (the browser session's) may add a passkey now. */
    canRegister,

    /** Options for a new discoverable credential of `user`, excluding the ones it has. */
    async registrationOptions(
      user: User,
      authTime: Date | null,
    ): Promise<Ceremony<PublicKeyCredentialCreationOptionsJSON>> {
      requireFresh(authTime)
      const existing = await passkeys.listForUser(user.id)
      if (existing.length >= MAX_PASSKEYS_PER_USER) throw new KeygateError('TOO_MANY_PASSKEYS')
      const options = await generateRegistrationOptions({
        rpName: RP_NAME,
        rpID,
        userName: user.email,
        userDisplayName: user.username ?? user.email,
        // The user handle names the account: a passwordless sign-in checks it.
        userID: new TextEncoder().encode(user.id),
        attestationType: 'none',
        excludeCredentials: existing.map((p) => ({
          id: p.credential_id,
          transports: p.transports,
        })),
        authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
        timeout: CHALLENGE_TTL_MS,
      })
      const handle = await challenges.remember({
        purpose: 'register',
        user_id: user.id,
        challenge: options.challenge,
      })
      return { options, handle }
    },

    /** Verifies the browser's attestation against the handle's challenge and stores the passkey. */
    async register(
      user: User,
      authTime: Date | null,
      handle: string | undefined,
      response: RegistrationResponseJSON,
      name?: string,
      source: ClientContext = {},
    ): Promise<Passkey> {
      requireFresh(authTime)
      const c = await challenges.spend(handle, 'register')
      if (c.user_id !== user.id) throw rejected()
      const info = await checkAttestation(rp, c.challenge, response)
      const count = await passkeys.countForUser(user.id)
      if (count >= MAX_PASSKEYS_PER_USER) throw new KeygateError('TOO_MANY_PASSKEYS')
      const passkey = {
        id: randomUUID(),
        user_id: user.id,
        credential_id: info.credential.id,
        public_key: info.credential.publicKey,
        counter: info.credential.counter,
        transports: info.credential.transports ?? response.response.transports ?? [],
        device_type: info.credentialDeviceType,
        backed_up: info.credentialBackedUp,
        name: name?.trim() || `Passkey ${count + 1}`,
        created_at: clock.now(),
      }
      try {
        await transact(async (r) => {
          await r.passkeys.insert(passkey)
          const event = { type: 'factor_enrolled' as const, userId: user.id, source }
          await r.audit.record({ ...event, details: factor }, passkey.created_at)
        })
      } catch (err) {
        if (isUniqueViolation(err)) throw new KeygateError('PASSKEY_EXISTS')
        throw err
      }
      return { ...passkey, last_used_at: null }
    },

    /**
     * Options for an assertion. Without a user: passwordless, no
     * allowCredentials, so the authenticator offers its discoverable
     * credentials. With one (the second factor): that user's credentials only.
     */
    async authenticationOptions(
      userId?: string,
    ): Promise<Ceremony<PublicKeyCredentialRequestOptionsJSON>> {
      let allowCredentials: { id: string; transports: string[] }[] | undefined
      if (userId !== undefined) {
        const own = await passkeys.listForUser(userId)
        if (own.length === 0) throw new KeygateError('NO_PASSKEYS')
        allowCredentials = own.map((p) => ({ id: p.credential_id, transports: p.transports }))
      }
      const options = await generateAuthenticationOptions({
        rpID,
        allowCredentials,
        userVerification: 'required',
        timeout: CHALLENGE_TTL_MS,
      })
      const handle = await challenges.remember({
        purpose: 'authenticate',
        user_id: userId ?? null,
        challenge: options.challenge,
      })
      return { options, handle }
    },

    /**
     * Verifies an assertion against the handle's challenge: signature, origin,
     * RP ID, user verification, a growing counter (a clone shows as a counter
     * that does not grow), and that the credential belongs to the user the
     * challenge was for, or, passwordless, to the user the authenticator names.
     */
    async authenticate(
      handle: string | undefined,
      response: AuthenticationResponseJSON,
      source: ClientContext = {},
    ): Promise<PasskeySignIn> {
      const c = await challenges.spend(handle, 'authenticate')
      const passkey = await passkeys.findByCredentialId(response.id)
      const info = await checkAssertion(rp, c, passkey, response).catch(async (err: unknown) => {
        // SPEC §10: a failed second step is audited against the account it was for.
        if (c.user_id !== null) await secondFactorFailed(c.user_id, source)
        throw err
      })
      if (!passkey) throw rejected()
      const use = { counter: info.newCounter, backed_up: info.credentialBackedUp, at: clock.now() }
      const user = await users.findById(passkey.user_id)
      if (!user) throw rejected()
      const recorded = await transact(async (r) => {
        if (!(await r.passkeys.recordUse(passkey.id, passkey.counter, use))) return false
        const event = { type: 'factor_used' as const, userId: user.id, source }
        await r.audit.record({ ...event, details: factor }, use.at)
        return true
      })
      if (!recorded) throw rejected()
      // Only after the proof, as after a correct password (SPEC §3).
      if (!user.is_active) throw new KeygateError('INACTIVE_USER')
      const used = {
        ...passkey,
        counter: use.counter,
        backed_up: use.backed_up,
        last_used_at: use.at,
      }
      return { user, passkey: used, amr: passkeyAmr(used) }
    },

    list: (userId: string): Promise<Passkey[]> => passkeys.listForUser(userId),

    async rename(userId: string, id: string, name: string): Promise<Passkey> {
      const trimmed = name.trim()
      if (trimmed === '') throw new ValidationError([fieldIssue('name', 'tooShort', { limit: 1 })])
      const found = await owned(userId, id)
      if (!(await passkeys.rename(userId, id, trimmed))) throw new KeygateError('PASSKEY_NOT_FOUND')
      return { ...found, name: trimmed }
    },

    async remove(userId: string, id: string, source: ClientContext = {}): Promise<void> {
      if (!UUID.test(id)) throw new KeygateError('PASSKEY_NOT_FOUND')
      await transact(async (r) => {
        if (!(await r.passkeys.delete(userId, id))) throw new KeygateError('PASSKEY_NOT_FOUND')
        const event = { type: 'factor_removed' as const, userId, source }
        await r.audit.record({ ...event, details: factor }, clock.now())
      })
    },
  }
}
