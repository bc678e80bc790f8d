import { createHash, randomBytes } from 'node:crypto'
import type { Config } from '../../config.js'
import type { AuditSource } from '../../domain/audit.js'
import type { Clock } from '../../domain/time.js'
import { DAY_MS } from '../../domain/time.js'
import type { User } from '../../domain/user.js'
import { KeygateError } from '../../errors.js'
import type { UsersRepo } from '../../repos/accounts/users.js'
import type { Transact, TxRepos } from '../../repos/support/transaction.js'
import type { Mailer } from '../mail/mailer.js'
import { composeMail } from '../mail/messages.js'
import type { Throttle } from '../throttle/throttle.js'
import type { ErrorLogger } from './password-reset.js'
import { rethrowTaken } from './users.js'

export interface EmailVerificationDeps {
  config: Pick<Config, 'publicUrl'>
  clock: Clock
  users: UsersRepo
  transact: Transact
  mailer: Mailer | undefined
  /** spaces out verification mails per account (the reset-mail budget, under its own key) */
  throttle: Pick<Throttle, 'resetMail'>
}

/** SPEC §9: links live 24 hours. */
export const EMAIL_LINK_TTL_MS = DAY_MS

// 256 random bits: a plain SHA-256 is enough to make a stolen table useless.
const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex')

const quiet: ErrorLogger = { error() {} }

/**
 * Verified email addresses and address changes, by one-time mailed links
 * (PUBLIC_URL/verify-email?token=…). A verification link sets
 * `email_verified`; a change link moves the account to the new address (and
 * marks it verified: following the link proved it). Both are confirmed by
 * `confirm`, so one page and one endpoint serve both.
 */
export function createEmailVerificationService(deps: EmailVerificationDeps) {
  const { config, clock, users, transact, mailer, throttle } = deps
  const pending = new Set<Promise<void>>()

  /** Mail work runs after the answer, so timing says nothing; errors are logged, not thrown. */
  function background(work: () => Promise<void>, log: ErrorLogger): void {
    const job: Promise<void> = work()
      .catch((err: unknown) =>
        log.error({ err: { message: String((err as Error)?.message ?? err) } }, 'mail not sent'),
      )
      .finally(() => pending.delete(job))
    pending.add(job)
  }

  /** A link's token, stored (hashed) by the caller's transaction, which also audits it. */
  async function issue(r: TxRepos, userId: string, newEmail: string | null, now: Date) {
    const token = randomBytes(32).toString('base64url')
    await r.emailTokens.insert({
      token_hash: hashToken(token),
      user_id: userId,
      new_email: newEmail,
      created_at: now,
      expires_at: new Date(now.getTime() + EMAIL_LINK_TTL_MS),
    })
    return `${config.publicUrl}/verify-email?token=${token}`
  }

  /** Audited when a link is issued (not when throttled or already verified): what was mailed. */
  async function mailVerification(user: User, source: AuditSource): Promise<void> {
    if (!mailer || user.email_verified) return
    // Per account, like reset mails: a flood of requests must not flood the mailbox.
    if (!(await throttle.resetMail(`verify:${user.id}`))) return
    const now = clock.now()
    const link = await transact(async (r) => {
      const issued = await issue(r, user.id, null, now)
      const event = { type: 'email_verification_requested' as const, userId: user.id, source }
      await r.audit.record(event, now)
      return issued
    })
    await mailer.send(
      composeMail(
        user.email,
        'Verify your email address',
        [
          'To confirm that this address belongs to your Keygate account, open this link within 24 hours; it works once:',
          'If you did not create a Keygate account, ignore this message.',
        ],
        link,
      ),
    )
  }

  return {
    /** The verification mail after signup (nothing without SMTP). */
    start(user: User, log: ErrorLogger = quiet, source: AuditSource = {}): void {
      if (mailer) background(() => mailVerification(user, source), log)
    },

    /**
     * Another verification mail. The answer is the same whether the address is
     * verified, a mail was just sent, or SMTP is off: the work is in the background.
     */
    request(user: User, log: ErrorLogger = quiet, source: AuditSource = {}): void {
      if (mailer) background(() => mailVerification(user, source), log)
    },

    /**
     * Another verification mail for the account a login names (the sign-in
     * page's "resend the link" under REQUIRE_VERIFIED_EMAIL). Nothing waits
     * for the look-up: the answer is the same for an unknown login, a verified
     * address, and one just mailed.
     */
    requestForLogin(login: string, log: ErrorLogger = quiet, source: AuditSource = {}): void {
      if (!mailer) return
      background(async () => {
        const user = await users.findByLogin(login)
        if (user?.is_active) await mailVerification(user, source)
      }, log)
    },

    /**
     * A change of address: a link to the new one (the change happens when it
     * is followed) and a notice to the old one, which stays the login until
     * then. The new address must be free now (409), and again when confirmed.
     * Without SMTP nothing can be mailed: the caller changes the address directly.
     */
    async requestChange(
      user: User,
      newEmail: string,
      log: ErrorLogger = quiet,
      source: AuditSource = {},
    ): Promise<void> {
      if (!mailer) throw new Error('requestChange needs a mailer')
      const taken = await users.findByLogin(newEmail)
      if (taken && taken.id !== user.id) throw new KeygateError('EMAIL_TAKEN')
      const now = clock.now()
      const link = await transact(async (r) => {
        // One pending change at a time: a newer request cancels older links.
        await r.emailTokens.deleteForUser(user.id, 'change')
        const issued = await issue(r, user.id, newEmail, now)
        // Not the new address: the event says a change is pending, email_changed when it happens.
        const event = { type: 'email_change_requested' as const, userId: user.id, source }
        await r.audit.record(event, now)
        return issued
      })
      background(async () => {
        await mailer.send(
          composeMail(
            newEmail,
            'Confirm your new email address',
            [
              'Someone asked to move a Keygate account to this address. To confirm, open this link within 24 hours; it works once:',
              'Until then the account keeps its current address. If it was not you, ignore this message.',
            ],
            link,
          ),
        )
        await mailer.send(
          composeMail(user.email, 'Your Keygate email address is being changed', [
            `Someone signed in to your Keygate account asked to change its email address to ${newEmail}.`,
            'The change happens only when the link sent to the new address is followed; until then this address stays the login.',
            'If it was not you, change your password now.',
          ]),
        )
      }, log)
    },

    /** The new address a change waits on (its link not yet followed), if any. */
    pendingChange(user: Pick<User, 'id'>): Promise<string | undefined> {
      return transact((r) => r.emailTokens.findPendingChange(user.id, clock.now()))
    },

    /** Whether a change can go by mail (SMTP configured). */
    get mails(): boolean {
      return mailer !== undefined
    },

    /** Uses a link once: verifies the address, or moves the account to the new one. */
    async confirm(token: string, source: AuditSource = {}): Promise<User> {
      const now = clock.now()
      return transact(async (r) => {
        const found = await r.emailTokens.consume(hashToken(token), now)
        if (!found) throw new KeygateError('INVALID_EMAIL_TOKEN')
        const user = await r.users.findById(found.user_id)
        if (!user) throw new KeygateError('INVALID_EMAIL_TOKEN')
        if (found.new_email === null) {
          const updated = await r.users.update(user.id, { email_verified: true }, now)
          await r.emailTokens.deleteForUser(user.id, 'verify')
          await r.audit.record({ type: 'email_verified', userId: user.id, source }, now)
          return updated ?? user
        }
        const updated = await r.users
          .update(user.id, { email: found.new_email, email_verified: true }, now)
          .catch(rethrowTaken)
        // Links for the old address (reset, verification) must not act on the new one.
        await r.passwordResets.deleteForUser(user.id)
        await r.emailTokens.deleteForUser(user.id, 'verify')
        await r.emailTokens.deleteForUser(user.id, 'change')
        const details = { by: 'link' }
        await r.audit.record({ type: 'email_changed', userId: user.id, source, details }, now)
        return updated ?? user
      })
    },

    /** Waits for background mail; called on shutdown. */
    async drain(): Promise<void> {
      await Promise.allSettled([...pending])
    },
  }
}

export type EmailVerificationService = ReturnType<typeof createEmailVerificationService>
