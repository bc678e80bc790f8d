import { Type } from 'typebox'
import { CurrentPassword } from './users.js'

/** A code as typed: a 6-digit TOTP code (spaces allowed) or a recovery code. */
const Code = Type.String({ minLength: 1, maxLength: 64 })

export const MfaStatusOut = Type.Object({
  totp: Type.Boolean(),
  passkeys: Type.Array(
    Type.Object({
      id: Type.String(),
      name: Type.String(),
      created_at: Type.String({ format: 'date-time' }),
      last_used_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    }),
  ),
  recovery_codes_left: Type.Integer(),
})

export const PasswordIn = Type.Object({ password: CurrentPassword })
export const CodeIn = Type.Object({ code: Code })
export const PasswordCodeIn = Type.Object({ password: CurrentPassword, code: Code })

export const TotpEnrolmentOut = Type.Object({
  secret: Type.String({ description: 'base32, for typing into an authenticator app' }),
  otpauth_uri: Type.String(),
  qr_svg: Type.String({ description: 'the otpauth:// URI as a QR code, SVG' }),
})

export const RecoveryCodesOut = Type.Object({
  recovery_codes: Type.Array(Type.String(), { description: 'shown this once; each works once' }),
})
