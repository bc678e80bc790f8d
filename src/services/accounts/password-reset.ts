import { createHash, randomBytes } from 'node:crypto'
import type { Config } from '../../config.js'
import type { ClientContext } from '../../domain/session.js'
import type { Clock } from '../../domain/time.js'
import type { User } from '../../domain/user.js'
import { KeygateError } from '../../errors.js'
import type { PasswordResetsRepo } from '../../repos/accounts/password-resets.js'
import type { UsersRepo } from '../../repos/accounts/users.js'
import type { Transact } from '../../repos/support/transaction.js'
import type { PasswordHasher } from '../crypto/passwords.js'
import type { Mailer } from '../mail/mailer.js'
import type { Throttle } from '../throttle/throttle.js'
import type { PasswordPolicy } from './password-policy.js'

/** Where background failures are reported (a pino logger fits). */
export interface ErrorLogger {
  error(fields: object, message: string): void
}

export interface PasswordResetDeps {
  config: Pick<Config, 'publicUrl' | 'passwordResetExpireMinutes'>
  clock: Clock
  hasher: PasswordHasher
  policy: PasswordPolicy
  users: UsersRepo
  passwordResets: PasswordResetsRepo
  transact: Transact
  mailer: Mailer | undefined
  /** spaces out reset mails per account (RATE_LIMIT_RESET_MAIL_*) */
  throttle: Pick<Throttle, 'resetMail'>
}

// 256 random bits: unguessable, so a plain SHA-256 (no salt, no slow hash) is
// enough to make a stolen database useless for resetting passwords.
const hashResetToken = (token: string): string => createHash('sha256').update(token).digest('hex')

/** An error's useful fields, with the secret scrubbed wherever it might appear. */
function scrubbed(err: unknown, secret: string) {
  const e = (err ?? {}) as { message?: unknown; code?: unknown; responseCode?: unknown }
  return {
    message: String(e.message ?? err).replaceAll(secret, '[redacted]'),
    code: e.code,
    responseCode: e.responseCode,
  }
}

export function createPasswordResetService(deps: PasswordResetDeps) {
  const { config, clock, hasher, policy, users, passwordResets, transact, mailer, throttle } = deps
  const pending = new Set<Promise<void>>()

  const findByEmail = async (email: string) =>
    email.includes('@') ? await users.findByLogin(email) : undefined

  /** Issues a new one-time token for the user; links issued before keep working. */
  async function issue(user: User, via: 'email' | 'cli', ctx: ClientContext = {}) {
    const token = randomBytes(32).toString('base64url')
    const now = clock.now()
    await transact(async (r) => {
      await r.passwordResets.insert({
        user_id: user.id,
        token_hash: hashResetToken(token),
        created_at: now,
        expires_at: new Date(now.getTime() + config.passwordResetExpireMinutes * 60_000),
      })
      const event = { type: 'password_reset_requested' as const, userId: user.id, source: ctx }
      await r.audit.record({ ...event, details: { via } }, now)
    })
    return { to: user.email, token, link: `${config.publicUrl}/reset-password?token=${token}` }
  }

  async function mailLink(email: string, log: ErrorLogger, ctx?: ClientContext): Promise<void> {
    if (!mailer) return
    const user = await findByEmail(email)
    // At most one mail a minute and a few an hour per account: a flood of
    // requests must not flood the owner's mailbox. The links already sent
    // stay valid, so a refused request leaves the owner nothing to miss.
    if (!user || !(await throttle.resetMail(user.id))) return
    const issued = await issue(user, 'email', ctx)
    const minutes = config.passwordResetExpireMinutes
    try {
      await mailer.send({
        to: issued.to,
        subject: 'Reset your Keygate password',
        text: [
          'Someone asked to reset the password of the Keygate account for this',
          `address. To choose a new password, open this link within ${minutes} minutes;`,
          'it works once:',
          '',
          issued.link,
          '',
          'If it was not you, ignore this message: your password stays as it is.',
          '',
        ].join('\n'),
      })
    } catch (err) {
      log.error({ err: scrubbed(err, issued.token) }, 'password reset mail not sent')
    }
  }

  return {
    /** A one-time link for the account with this email, or undefined when there is none. */
    async issueLink(email: string): Promise<string | undefined> {
      const user = await findByEmail(email)
      return user && (await issue(user, 'cli')).link
    },

    /**
     * Starts the reset in the background and returns at once, so the answer
     * (status, body, headers and timing) is the same whether or not the email
     * has an account (OWASP Forgot Password Cheat Sheet). Without a mailer
     * nothing is issued. A new link never cancels an older one.
     */
    request(email: string, log: ErrorLogger, ctx?: ClientContext): void {
      const job: Promise<void> = mailLink(email, log, ctx)
        .catch((err) => log.error({ err: scrubbed(err, '') }, 'password reset failed'))
        .finally(() => pending.delete(job))
      pending.add(job)
    },

    /** Uses a token once: sets the password, revokes every session and every other link of the user. */
    async confirm(token: string, newPassword: string, ctx: ClientContext = {}): Promise<void> {
      policy.check(newPassword, 'new_password')
      const tokenHash = hashResetToken(token)
      if (!(await passwordResets.findLiveUserId(tokenHash, clock.now()))) {
        throw new KeygateError('INVALID_RESET_TOKEN')
      }
      const hashed = await hasher.hash(newPassword)
      const now = clock.now()
      await transact(async (r) => {
        // The delete decides: of two concurrent uses of one token, only one gets a row.
        const userId = await r.passwordResets.consume(tokenHash, now)
        if (!userId) throw new KeygateError('INVALID_RESET_TOKEN')
        await r.users.update(userId, { hashed_password: hashed }, now)
        await r.sessions.revokeAllForUser(userId, now)
        await r.passwordResets.deleteForUser(userId)
        await r.audit.record({ type: 'password_reset_completed', userId, source: ctx }, now)
      })
    },

    /** Waits for background work (mail) to finish; called on shutdown. */
    async drain(): Promise<void> {
      await Promise.allSettled([...pending])
    },
  }
}
