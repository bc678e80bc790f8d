import { Type } from 'typebox'
import { Email, newPassword } from './users.js'

export const ResetRequestIn = Type.Object({ email: Email })

export const ResetRequestOut = Type.Object({ detail: Type.String() })

export const resetConfirmIn = (minLength: number) =>
  Type.Object({
    token: Type.String({ minLength: 1, maxLength: 256 }),
    new_password: newPassword(minLength),
  })
