import { type Static, Type } from 'typebox'
import { EMAIL_MAX_LENGTH, type User } from '../../domain/user.js'
import { Page, Uuid } from './common.js'

/** RFC 5321 limits (domain/user.ts isValidEmail, which the `email` format runs). */
export const Email = Type.String({ format: 'email', maxLength: EMAIL_MAX_LENGTH })
/** Letters, digits, `_ . -`; never `@`, so the login field is unambiguous. */
export const Username = Type.String({ minLength: 3, maxLength: 32, pattern: '^[A-Za-z0-9_.-]+$' })
export const newPassword = (minLength: number) => Type.String({ minLength, maxLength: 1024 })

/** A password being checked, not chosen: only bounded (older passwords may be short). */
export const CurrentPassword = Type.String({ minLength: 1, maxLength: 4096 })

export const ProfilePatchIn = Type.Object({
  email: Type.Optional(Email),
  username: Type.Optional(Type.Union([Username, Type.Null()])),
  current_password: Type.Optional(CurrentPassword),
})

export const passwordChangeIn = (minLength: number) =>
  Type.Object({ current_password: CurrentPassword, new_password: newPassword(minLength) })

export const DeleteMeIn = Type.Object({ password: CurrentPassword })

export const AdminUserPatchIn = Type.Object({
  is_active: Type.Optional(Type.Boolean()),
  is_superuser: Type.Optional(Type.Boolean()),
})

export const UserOut = Type.Object({
  id: Uuid,
  email: Type.String(),
  username: Type.Union([Type.String(), Type.Null()]),
  is_active: Type.Boolean(),
  is_superuser: Type.Boolean(),
  email_verified: Type.Boolean(),
  created_at: Type.String({ format: 'date-time' }),
})
export type UserOut = Static<typeof UserOut>
export const UserPage = Page(UserOut)

/** The public view of a user: an explicit copy, so a hash can never leave. */
export function toUserOut(user: User): UserOut {
  return {
    id: user.id,
    email: user.email,
    username: user.username,
    is_active: user.is_active,
    is_superuser: user.is_superuser,
    email_verified: user.email_verified,
    created_at: user.created_at.toISOString(),
  }
}
