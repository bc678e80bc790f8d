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
  // The MFA grant's fields (SPEC §9); a wrong or overlong code is invalid_grant, not a 422.
  mfa_token: Type.Optional(Type.String({ maxLength: 256 })),
  otp: Type.Optional(Type.String({ maxLength: 64 })),
  recovery_code: Type.Optional(Type.String({ maxLength: 64 })),
  // The authorization code grant's; a wrong code or verifier is invalid_grant, not a 422.
  code: Type.Optional(Type.String()),
  redirect_uri: Type.Optional(Type.String()),
  code_verifier: Type.Optional(Type.String()),
})

/** The JSON second step of a sign-in: the first step's mfa_token and one code. */
export const LoginMfaIn = Type.Object({
  mfa_token: Type.String({ minLength: 1, maxLength: 256 }),
  otp: Type.Optional(Type.String({ maxLength: 64 })),
  recovery_code: Type.Optional(Type.String({ maxLength: 64 })),
})

/** 403 of a refused sign-in: inactive, unverified, or (with `mfa_token`) a second factor needed. */
export const SignInRefusedOut = Type.Object({
  error: Type.Optional(Type.String()),
  error_description: Type.Optional(Type.String()),
  mfa_token: Type.Optional(Type.String()),
  detail: Type.String(),
})

export const TokenOut = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('bearer'),
  expires_in: Type.Integer(),
  refresh_token: Type.String(),
  scope: Type.String({ description: "the access token's scopes, space-separated (RFC 6749 §5.1)" }),
})

/** The token endpoint's answer: a client_credentials token has no refresh token, and names its scope. */
export const TokenEndpointOut = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('bearer'),
  expires_in: Type.Integer(),
  refresh_token: Type.Optional(Type.String()),
  scope: Type.Optional(Type.String()),
  id_token: Type.Optional(
    Type.String({ description: 'OIDC ID token, when `openid` was granted (authorization_code)' }),
  ),
})
