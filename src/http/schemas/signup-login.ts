import { Type } from 'typebox'
import { Email, newPassword, Username } from './users.js'

export const signupIn = (passwordMinLength: number) =>
  Type.Object({
    email: Email,
    password: newPassword(passwordMinLength),
    username: Type.Optional(Type.Union([Username, Type.Null()])),
  })

/** A login password is only bounded, not judged: legacy passwords may be short. */
const LoginPassword = Type.String({ minLength: 1, maxLength: 4096 })

export const LoginIn = Type.Object({
  email: Type.Optional(Type.String({ maxLength: 320 })),
  username: Type.Optional(Type.String({ maxLength: 320 })),
  password: LoginPassword,
})

/** RFC 6749 §4.3.2 / §6 token request; the grant decides which fields are needed. */
export const TokenRequestIn = Type.Object({
  grant_type: Type.Optional(Type.String({ maxLength: 64 })),
  username: Type.Optional(Type.String({ maxLength: 320 })),
  password: Type.Optional(LoginPassword),
  scope: Type.Optional(Type.String({ maxLength: 1024 })),
  // Unbounded like /auth/refresh's: an overlong token is invalid_grant, not a 422.
  refresh_token: Type.Optional(Type.String()),
  client_id: Type.Optional(Type.String({ maxLength: 255 })),
  client_secret: Type.Optional(Type.String({ maxLength: 1024 })),
})

export const TokenOut = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('bearer'),
  expires_in: Type.Integer(),
  refresh_token: Type.String(),
  scope: Type.String({ description: "the access token's scopes, space-separated (RFC 6749 §5.1)" }),
})
