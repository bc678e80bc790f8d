import { randomUUID } from 'node:crypto'
import { isUniqueViolation, violatedConstraint } from '../db/unique-violation.js'
import { KeygateError } from '../errors.js'
import type { User, UsersRepo } from '../repos/users.js'
import type { ClientContext } from './auth.js'
import type { Clock } from './clock.js'
import type { PasswordHasher } from './passwords.js'
import type { Throttle } from './throttle.js'

export interface SignupInput {
  email: string
  password: string
  username?: string | null
}

export interface UsersServiceDeps {
  clock: Clock
  hasher: PasswordHasher
  throttle: Throttle
  users: UsersRepo
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
  const { clock, hasher, throttle, users } = deps

  /**
   * Creates an account. The early lookups only save a hash on the common
   * case; the unique indexes decide races (20 concurrent signups → one 201).
   */
  async function create(input: SignupInput, flags: { is_superuser?: boolean }): Promise<User> {
    const email = input.email.trim()
    const username = input.username?.trim() || null
    if (await users.findByLogin(email)) throw new KeygateError('EMAIL_TAKEN')
    if (username !== null && (await users.findByLogin(username)))
      throw new KeygateError('USERNAME_TAKEN')
    const hashed = await hasher.hash(input.password)
    return users
      .insert({
        id: randomUUID(),
        email,
        username,
        hashed_password: hashed,
        is_active: true,
        is_superuser: flags.is_superuser ?? false,
        created_at: clock.now(),
      })
      .catch(rethrowTaken)
  }

  return {
    /** A signup from a client (`ctx`) is throttled per client; the CLI's is not. */
    signup(input: SignupInput, flags: { is_superuser?: boolean } = {}, ctx?: ClientContext) {
      return ctx ? throttle.signup(ctx.ip, () => create(input, flags)) : create(input, flags)
    },

    async get(id: string): Promise<User> {
      const user = await users.findById(id)
      if (!user) throw new KeygateError('USER_NOT_FOUND')
      return user
    },
  }
}

export type UsersService = ReturnType<typeof createUsersService>
