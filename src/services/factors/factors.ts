import { createHash, createHmac, randomBytes, randomInt } from 'node:crypto'
import type { AuditDetails, AuditSource } from '../../domain/audit.js'
import type { ClientContext } from '../../domain/session.js'
import type { Clock } from '../../domain/time.js'
import type { User } from '../../domain/user.js'
import { KeygateError } from '../../errors.js'
import type { FactorsRepo } from '../../repos/accounts/factors.js'
import type { PasskeysRepo } from '../../repos/accounts/passkeys.js'
import type { AuditEventsRepo } from '../../repos/audit-events.js'
import type { Transact } from '../../repos/support/transaction.js'
import type { ErrorLogger } from '../accounts/password-reset.js'
import { signInFailure } from '../audit/sign-in-failure.js'
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
  /** the passkeys GET /users/me/mfa lists (services/accounts/passkeys.ts owns them) */
  passkeys: Pick<PasskeysRepo, 'listForUser'>
  /** folds failed second steps (sign-in-failure.ts); other events go through `transact` */
  audit: AuditEventsRepo
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
  /**
   * The account a passkey assertion was verified for (services/accounts/passkeys.ts,
   * which also audits the use). Set only by server code after that
   * verification, never from a request field.
   */
  passkeyUserId?: string
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
  const {
    clock,
    hasher,
    throttle,
    factors,
    passkeys,
    audit,
    transact,
    mailer,
    sealKey,
    recoveryKey,
  } = deps
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

  /**
   * Accepts a TOTP code once: the step must be later than the last accepted one.
   * `repo` is a transaction's when the caller audits the use with it.
   */
  async function totpWith(repo: FactorsRepo, user: Pick<User, 'id'>, code: string) {
    const totp = await repo.findTotp(user.id)
    if (!totp?.confirmed_at) return false
    const secret = openTotpSecret(sealKey, user.id, totp.secret_sealed)
    if (secret === undefined) return false
    const step = await matchTotp(secret, code.trim(), clock.now().getTime(), totp.last_step)
    // The conditional update decides between two concurrent uses of one code.
    return step !== undefined && (await repo.acceptStep(user.id, step))
  }

  const verifyTotp = (user: Pick<User, 'id'>, code: string): Promise<boolean> =>
    totpWith(factors, user, code)

  /** Spends a recovery code: true the first time only. */
  const useRecoveryCode = (user: Pick<User, 'id'>, code: string): Promise<boolean> =>
    factors.useRecoveryCode(user.id, hashRecovery(code))

  /** Which factor the proof used, or undefined when it proves nothing. */
  async function verifyEither(
    repo: FactorsRepo,
    user: Pick<User, 'id'>,
    proof: SecondFactor,
  ): Promise<'totp' | 'recovery_code' | 'passkey' | undefined> {
    if (proof.otp !== undefined) return (await totpWith(repo, user, proof.otp)) ? 'totp' : undefined
    if (proof.recovery_code !== undefined) {
      const spent = await repo.useRecoveryCode(user.id, hashRecovery(proof.recovery_code))
      return spent ? 'recovery_code' : undefined
    }
    if (proof.passkeyUserId !== undefined) {
      return proof.passkeyUserId === user.id ? 'passkey' : undefined
    }
    return undefined
  }

  /** Code attempts count against the account like password attempts. */
  async function checkCode(user: User, proof: SecondFactor, ctx: ClientContext) {
    await throttle.login(codeAccount(user.id), ctx.ip, async () => {
      if (!(await verifyEither(factors, user, proof))) throw new KeygateError('WRONG_CODE')
    })
  }

  async function newRecoveryCodes(repo: FactorsRepo, userId: string, now: Date) {
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode)
    await repo.replaceRecoveryCodes(userId, codes.map(hashRecovery), now)
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
        passkeys: (await passkeys.listForUser(user.id)).map((p) => ({
          id: p.id,
          name: p.name,
          created_at: p.created_at.toISOString(),
          last_used_at: p.last_used_at?.toISOString() ?? null,
        })),
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
      const recovery_codes = await throttle.login(codeAccount(user.id), ctx.ip, async () => {
        const now = clock.now()
        const step =
          secret === undefined
            ? undefined
            : await matchTotp(secret, code.trim(), now.getTime(), totp.last_step)
        if (step === undefined) throw new KeygateError('WRONG_CODE')
        // Turned on, given its codes and audited at once, or not at all.
        return transact(async (r) => {
          if (!(await r.factors.acceptStep(user.id, step, now)))
            throw new KeygateError('WRONG_CODE')
          const codes = await newRecoveryCodes(r.factors, user.id, now)
          const event = { type: 'factor_enrolled' as const, userId: user.id, source: ctx }
          await r.audit.record({ ...event, details: { factor: 'totp' } }, now)
          return codes
        })
      })
      return { recovery_codes }
    },

    /** Turns TOTP off (and its recovery codes): the password and a current code. */
    async disableTotp(user: User, password: string, code: string, ctx: ClientContext = {}) {
      await checkPassword(user, password, ctx)
      await requireEnabled(user)
      await checkCode(user, { otp: code }, ctx)
      const now = clock.now()
      await transact(async (r) => {
        await r.factors.deleteTotp(user.id)
        await r.factors.replaceRecoveryCodes(user.id, [], now)
        const event = { type: 'factor_removed' as const, userId: user.id, source: ctx }
        await r.audit.record({ ...event, details: { factor: 'totp' } }, now)
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
      const now = clock.now()
      const recovery_codes = await transact(async (r) => {
        const codes = await newRecoveryCodes(r.factors, user.id, now)
        const event = { type: 'recovery_codes_regenerated' as const, userId: user.id, source: ctx }
        await r.audit.record(event, now)
        return codes
      })
      return { recovery_codes }
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
     * The user a live mfa_token of this client waits for, without spending it
     * (the sign-in page's second step shows itself only while its challenge lives).
     */
    async pendingChallenge(mfaToken: string, clientId: string): Promise<string | undefined> {
      const challenge = await factors.findChallenge(
        hashChallenge(mfaToken),
        clock.now(),
        MFA_TOKEN_MAX_FAILURES,
      )
      return challenge?.client_id === clientId ? challenge.user_id : undefined
    },

    /**
     * The user an mfa_token and a code prove, spending the token; INVALID_MFA
     * for a dead, foreign-client or exhausted token and for a wrong or
     * replayed code (which counts toward the token's 5 and the account's throttle).
     * A success records `factor_used` or `recovery_code_used` with the spent
     * code and token; a refusal is a folded `sign_in_failed` (second_factor_failed).
     */
    async completeChallenge(
      mfaToken: string,
      proof: SecondFactor,
      clientId: string,
      ctx: ClientContext,
      findUser: (id: string) => Promise<User | undefined>,
    ): Promise<User> {
      const tokenHash = hashChallenge(mfaToken)
      const source = { ...ctx, clientId }
      let user: User | undefined
      try {
        const challenge = await factors.findChallenge(
          tokenHash,
          clock.now(),
          MFA_TOKEN_MAX_FAILURES,
        )
        if (!challenge || challenge.client_id !== clientId) throw new KeygateError('INVALID_MFA')
        user = await findUser(challenge.user_id)
        if (!user) throw new KeygateError('INVALID_MFA')
        const subject = user
        await throttle.login(codeAccount(subject.id), ctx.ip, async () => {
          const now = clock.now()
          const used = await transact(async (r) => {
            const factor = await verifyEither(r.factors, subject, proof)
            if (factor === undefined) return undefined
            // A token spent concurrently: roll back, so the code stays unspent.
            if (!(await r.factors.consumeChallenge(tokenHash)))
              throw new KeygateError('INVALID_MFA')
            // A passkey's use was audited where it was verified (passkeys.ts).
            if (factor === 'passkey') return factor
            const details: AuditDetails =
              factor === 'totp'
                ? { factor }
                : { codes_left: await r.factors.countRecoveryCodes(subject.id) }
            const type = factor === 'totp' ? 'factor_used' : 'recovery_code_used'
            await r.audit.record({ type, userId: subject.id, source, details }, now)
            return factor
          })
          if (used === undefined) {
            await factors.failChallenge(tokenHash)
            throw new KeygateError('INVALID_MFA')
          }
        })
        return subject
      } catch (err) {
        return signInFailure(audit, user, source, clock.now(), err)
      }
    },

    /** A superuser's reset: every factor goes, and the owner is told by mail. */
    async reset(user: User, log: ErrorLogger = quiet, source: AuditSource = {}): Promise<void> {
      const now = clock.now()
      await transact(async (r) => {
        await r.factors.deleteAllFor(user.id)
        const event = { type: 'factor_removed' as const, userId: user.id, source }
        await r.audit.record({ ...event, details: { factor: 'all' } }, now)
      })
      if (!mailer) return
      const job: Promise<void> = mailer
        .send(
          composeMail(user.email, 'Your Keygate sign-in factors were reset', [
            'An administrator removed the two-step sign-in (authenticator app, recovery codes and passkeys) from your Keygate account. You now sign in with your password alone.',
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
