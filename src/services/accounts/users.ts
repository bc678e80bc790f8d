import { randomUUID } from 'node:crypto'
import { isUniqueViolation, violatedConstraint } from '../../db/unique-violation.js'
import type { ClientContext } from '../../domain/session.js'
import type { Clock } from '../../domain/time.js'
import type { User } from '../../domain/user.js'
import { KeygateError } from '../../errors.js'
import type { UsersRepo } from '../../repos/accounts/users.js'
import type { Transact } from '../../repos/support/transaction.js'
import type { PasswordHasher } from '../crypto/passwords.js'
import type { Throttle } from '../throttle/throttle.js'
import type { EmailVerificationService } from './email-verification.js'
import type { PasswordPolicy } from './password-policy.js'
import type { ErrorLogger } from './password-reset.js'

export interface SignupInput {
  email: string
  password: string
  username?: string | null
}

export interface UsersServiceDeps {
  clock: Clock
  hasher: PasswordHasher
  policy: PasswordPolicy
  throttle: Throttle
  users: UsersRepo
  transact: Transact
  /** the verification mail of a new account (services/accounts/email-verification.ts) */
  emailVerification?: Pick<EmailVerificationService, 'start'>
}

export interface FirstSuperuserResult {
  outcome: 'created' | 'exists' | 'not-superuser'
  /** the configured password fails the policy (it is used anyway: the operator chose it) */
  weakPassword: boolean
}

/** Maps a unique-index violation to the 409 it means; rethrows anything else. */
export function rethrowTaken(err: unknown): never {
  if (isUniqueViolation(err)) {
    throw new KeygateError(
      violatedConstraint(err).includes('username') ? 'USERNAME_TAKEN' : 'EMAIL_TAKEN',
    )
  }
  throw err
}

export function createUsersService(deps: UsersServiceDeps) {
  const { clock, hasher, policy, throttle, users, transact } = deps

  /** `via`: signup (the API), cli (`keygate create-user`) or first_superuser (start-up). */
  const insert = async (
    input: SignupInput,
    isSuperuser: boolean,
    via: string,
    ctx: ClientContext = {},
  ): Promise<User> => {
    const hashed = await hasher.hash(input.password)
    const now = clock.now()
    return transact(async (r) => {
      const user = await r.users.insert({
        id: randomUUID(),
        email: input.email.trim(),
        username: input.username?.trim() || null,
        hashed_password: hashed,
        is_active: true,
        is_superuser: isSuperuser,
        created_at: now,
      })
      const details = { via, is_superuser: isSuperuser }
      await r.audit.record({ type: 'user_created', userId: user.id, source: ctx, details }, now)
      return user
    })
  }

  /**
   * Creates an account. The early lookups only save a hash on the common
   * case; the unique indexes decide races (20 concurrent signups → one 201).
   */
  async function create(
    input: SignupInput,
    flags: { is_superuser?: boolean },
    ctx?: ClientContext,
  ): Promise<User> {
    policy.check(input.password, 'password')
    const username = input.username?.trim() || null
    if (await users.findByLogin(input.email.trim())) throw new KeygateError('EMAIL_TAKEN')
    if (username !== null && (await users.findByLogin(username)))
      throw new KeygateError('USERNAME_TAKEN')
    const via = ctx ? 'signup' : 'cli'
    return insert(input, flags.is_superuser ?? false, via, ctx).catch(rethrowTaken)
  }

  return {
    /**
     * A signup from a client (`ctx`) is throttled per client and mailed a
     * verification link (with SMTP); the CLI's is neither.
     */
    async signup(
      input: SignupInput,
      flags: { is_superuser?: boolean } = {},
      ctx?: ClientContext,
      log?: ErrorLogger,
    ) {
      if (!ctx) return create(input, flags)
      const user = await throttle.signup(ctx.ip, () => create(input, flags, ctx))
      deps.emailVerification?.start(user, log, ctx)
      return user
    },

    async get(id: string): Promise<User> {
      const user = await users.findById(id)
      if (!user) throw new KeygateError('USER_NOT_FOUND')
      return user
    },

    /**
     * FIRST_SUPERUSER_*: creates the account when no account has that email.
     * Safe when several instances start at once: the unique index lets one
     * insert win and the others find it. An existing account that is not a
     * superuser is left alone (not promoted, password untouched): whoever
     * registered that email first must not become an administrator by it.
     */
    async ensureFirstSuperuser(email: string, password: string): Promise<FirstSuperuserResult> {
      const state = async () => {
        const user = await users.findByLogin(email.trim())
        return user && (user.is_superuser ? ('exists' as const) : ('not-superuser' as const))
      }
      const before = await state()
      if (before) return { outcome: before, weakPassword: false }
      const weakPassword = policy.problem(password, 'password') !== undefined
      try {
        await insert({ email, password }, true, 'first_superuser')
        return { outcome: 'created', weakPassword }
      } catch (err) {
        if (!isUniqueViolation(err)) throw err
        return { outcome: (await state()) ?? 'exists', weakPassword: false }
      }
    },
  }
}
