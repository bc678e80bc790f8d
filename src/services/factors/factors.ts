import { createHash, createHmac, randomBytes, randomInt } from 'node:crypto'
import type { ClientContext } from '../../domain/session.js'
import type { Clock } from '../../domain/time.js'
import type { User } from '../../domain/user.js'
import { KeygateError } from '../../errors.js'
import type { FactorsRepo } from '../../repos/factors.js'
import type { Transact } from '../../repos/transaction.js'
import type { ErrorLogger } from '../accounts/password-reset.js'
import type { PasswordHasher } from '../crypto/passwords.js'
import type { Mailer } from '../mail/mailer.js'
import { composeMail } from '../mail/messages.js'
import { accountOf, type Throttle } from '../throttle/throttle.js'
import { matchTotp, newTotpSecret, openTotpSecret, sealTotpSecret } from './totp.js'

export interface FactorsServiceDeps {
  clock: Clock
  hasher: PasswordHasher
  throttle: Pick<Throttle, 'login'>
  factors: FactorsRepo
  transact: Transact
  mailer: Mailer | undefined
  /** seals TOTP secrets (server-secret.ts, purpose `totp-secret`) */
  sealKey: Buffer
  /** keys the recovery-code hashes (purpose `recovery-codes`) */
  recoveryKey: Buffer
}

/** What proves the second step: a TOTP code or a recovery code. */
export interface SecondFactor {
  otp?: string
  recovery_code?: string
}

export const RECOVERY_CODE_COUNT = 10
/** SPEC §9: an mfa_token lives 5 minutes and dies after 5 wrong codes. */
export const MFA_TOKEN_TTL_MS = 5 * 60_000
export const MFA_TOKEN_MAX_FAILURES = 5
const ISSUER = 'Keygate'
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789'

/** `xxxx-xxxx-xxxx` from 31 unambiguous characters: about 59 bits. */
function newRecoveryCode(): string {
  const chars = Array.from({ length: 12 }, () => ALPHABET[randomInt(ALPHABET.length)])
  return [0, 4, 8].map((i) => chars.slice(i, i + 4).join('')).join('-')
}

const hashChallenge = (token: string) => createHash('sha256').update(token).digest('hex')

const quiet: ErrorLogger = { error() {} }

/**
 * Codes have their own budget in the throttle, beside the password's: a
 * correct password resets the password's backoff, and must not reset the
 * codes' too (one who knows the password could then guess codes forever).
 */
const codeAccount = (userId: string) => `mfa:${userId}`

/**
 * Second factors: TOTP with recovery codes (SPEC §9), and the second step of
 * a sign-in. Services and pages share it: `verifyTotp` and `useRecoveryCode`
 * are the bare checks, `proveSecondFactor` the throttled one.
 */
export function createFactorsService(deps: FactorsServiceDeps) {
  const { clock, hasher, throttle, factors, transact, mailer, sealKey, recoveryKey } = deps
  const pending = new Set<Promise<void>>()

  // Keyed, so a stolen table cannot be searched for codes without the server secret.
  const hashRecovery = (code: string) =>
    createHmac('sha256', recoveryKey)
      .update(code.toLowerCase().replace(/[^a-z0-9]/g, ''))
      .digest('hex')

  /** The password under the sign-in throttle (a stolen bearer is no unthrottled oracle). */
  async function checkPassword(user: User, password: string, ctx: ClientContext) {
    await throttle.login(accountOf(user.id, ''), ctx.ip, async () => {
      const { ok } = await hasher.verify(user.hashed_password, password)
      if (!ok) throw new KeygateError('WRONG_PASSWORD')
    })
  }

  /** Accepts a TOTP code once: the step must be later than the last accepted one. */
  async function verifyTotp(user: Pick<User, 'id'>, code: string): Promise<boolean> {
    const totp = await factors.findTotp(user.id)
    if (!totp?.confirmed_at) return false
    const secret = openTotpSecret(sealKey, user.id, totp.secret_sealed)
    if (secret === undefined) return false
    const step = await matchTotp(secret, code.trim(), clock.now().getTime(), totp.last_step)
    // The conditional update decides between two concurrent uses of one code.
    return step !== undefined && (await factors.acceptStep(user.id, step))
  }

  /** Spends a recovery code: true the first time only. */
  const useRecoveryCode = (user: Pick<User, 'id'>, code: string): Promise<boolean> =>
    factors.useRecoveryCode(user.id, hashRecovery(code))

  /** A TOTP code or a recovery code, whichever is given (false for neither). */
  async function verifyEither(user: Pick<User, 'id'>, proof: SecondFactor): Promise<boolean> {
    if (proof.otp !== undefined) return verifyTotp(user, proof.otp)
    if (proof.recovery_code !== undefined) return useRecoveryCode(user, proof.recovery_code)
    return false
  }

  /** Code attempts count against the account like password attempts. */
  async function checkCode(user: User, proof: SecondFactor, ctx: ClientContext) {
    await throttle.login(codeAccount(user.id), ctx.ip, async () => {
      if (!(await verifyEither(user, proof))) throw new KeygateError('WRONG_CODE')
    })
  }

  async function newRecoveryCodes(userId: string): Promise<string[]> {
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode)
    await factors.replaceRecoveryCodes(userId, codes.map(hashRecovery), clock.now())
    return codes
  }

  async function requireEnabled(user: User) {
    const totp = await factors.findTotp(user.id)
    if (!totp?.confirmed_at) throw new KeygateError('TOTP_NOT_ENABLED')
  }

  return {
    verifyTotp,
    useRecoveryCode,
    /** A TOTP or recovery code of a signed-in user, throttled; WRONG_CODE when it fails. */
    proveSecondFactor: checkCode,

    /** Whether the account has a confirmed second factor (its sign-ins need one). */
    async hasFactor(userId: string): Promise<boolean> {
      return (await factors.findTotp(userId))?.confirmed_at != null
    },

    async status(user: User) {
      const totp = await factors.findTotp(user.id)
      return {
        totp: totp?.confirmed_at != null,
        // Passkeys come later (SPEC §9); the shape is the contract's already.
        passkeys: [] as {
          id: string
          name: string
          created_at: string
          last_used_at: string | null
        }[],
        recovery_codes_left: await factors.countRecoveryCodes(user.id),
      }
    },

    /**
     * Starts enrolment: a new secret, not active until a code from it is
     * confirmed. Asking again before confirming replaces the secret.
     */
    async beginTotp(user: User, password: string, ctx: ClientContext = {}) {
      await checkPassword(user, password, ctx)
      const fresh = await newTotpSecret(ISSUER, user.email)
      const sealed = sealTotpSecret(sealKey, user.id, fresh.secret)
      if (!(await factors.startTotp(user.id, sealed, clock.now())))
        throw new KeygateError('TOTP_ALREADY_ENABLED')
      return { secret: fresh.secret, otpauth_uri: fresh.otpauthUri, qr_svg: fresh.qrSvg }
    },

    /** A first code from the app turns TOTP on; the recovery codes are shown this once. */
    async confirmTotp(user: User, code: string, ctx: ClientContext = {}) {
      const totp = await factors.findTotp(user.id)
      if (!totp) throw new KeygateError('TOTP_NOT_STARTED')
      if (totp.confirmed_at) throw new KeygateError('TOTP_ALREADY_ENABLED')
      const secret = openTotpSecret(sealKey, user.id, totp.secret_sealed)
      await throttle.login(codeAccount(user.id), ctx.ip, async () => {
        const step =
          secret === undefined
            ? undefined
            : await matchTotp(secret, code.trim(), clock.now().getTime(), totp.last_step)
        if (step === undefined || !(await factors.acceptStep(user.id, step, clock.now())))
          throw new KeygateError('WRONG_CODE')
      })
      return { recovery_codes: await newRecoveryCodes(user.id) }
    },

    /** Turns TOTP off (and its recovery codes): the password and a current code. */
    async disableTotp(user: User, password: string, code: string, ctx: ClientContext = {}) {
      await checkPassword(user, password, ctx)
      await requireEnabled(user)
      await checkCode(user, { otp: code }, ctx)
      await transact(async (r) => {
        await r.factors.deleteTotp(user.id)
        await r.factors.replaceRecoveryCodes(user.id, [], clock.now())
      })
    },

    /** New recovery codes; the old ones die. The password and a current code. */
    async regenerateRecoveryCodes(
      user: User,
      password: string,
      code: string,
      ctx: ClientContext = {},
    ) {
      await checkPassword(user, password, ctx)
      await requireEnabled(user)
      await checkCode(user, { otp: code }, ctx)
      return { recovery_codes: await newRecoveryCodes(user.id) }
    },

    /** The second step of a sign-in: an mfa_token bound to the user and the client. */
    async startChallenge(userId: string, clientId: string): Promise<string> {
      const token = randomBytes(32).toString('base64url')
      const now = clock.now()
      await factors.insertChallenge({
        token_hash: hashChallenge(token),
        user_id: userId,
        client_id: clientId,
        created_at: now,
        expires_at: new Date(now.getTime() + MFA_TOKEN_TTL_MS),
      })
      return token
    },

    /**
     * The user an mfa_token and a code prove, spending the token; INVALID_MFA
     * for a dead, foreign-client or exhausted token and for a wrong or
     * replayed code (which counts toward the token's 5 and the account's throttle).
     */
    async completeChallenge(
      mfaToken: string,
      proof: SecondFactor,
      clientId: string,
      ctx: ClientContext,
      findUser: (id: string) => Promise<User | undefined>,
    ): Promise<User> {
      const tokenHash = hashChallenge(mfaToken)
      const challenge = await factors.findChallenge(tokenHash, clock.now(), MFA_TOKEN_MAX_FAILURES)
      if (!challenge || challenge.client_id !== clientId) throw new KeygateError('INVALID_MFA')
      const user = await findUser(challenge.user_id)
      if (!user) throw new KeygateError('INVALID_MFA')
      await throttle.login(codeAccount(user.id), ctx.ip, async () => {
        if (!(await verifyEither(user, proof))) {
          await factors.failChallenge(tokenHash)
          throw new KeygateError('INVALID_MFA')
        }
      })
      if (!(await factors.consumeChallenge(tokenHash))) throw new KeygateError('INVALID_MFA')
      return user
    },

    /** A superuser's reset: every factor goes, and the owner is told by mail. */
    async reset(user: User, log: ErrorLogger = quiet): Promise<void> {
      await transact((r) => r.factors.deleteAllFor(user.id))
      if (!mailer) return
      const job: Promise<void> = mailer
        .send(
          composeMail(user.email, 'Your Keygate sign-in factors were reset', [
            'An administrator removed the two-step sign-in (authenticator app and recovery codes) from your Keygate account. You now sign in with your password alone.',
            'Set up two-step sign-in again from your account. If you did not ask for this, contact your administrator.',
          ]),
        )
        .catch((err: unknown) =>
          log.error({ err: { message: String((err as Error)?.message ?? err) } }, 'mail not sent'),
        )
        .finally(() => pending.delete(job))
      pending.add(job)
    },

    /** Waits for background mail; called on shutdown. */
    async drain(): Promise<void> {
      await Promise.allSettled([...pending])
    },
  }
}

export type FactorsService = ReturnType<typeof createFactorsService>
