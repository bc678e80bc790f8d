import { type Static, Type } from 'typebox'
import type { Session } from '../../domain/session.js'
import { Uuid } from './common.js'

const OpaqueToken = Type.String({ maxLength: 4096 })

// Any string is a refresh token that may or may not exist: a wrong length is a
// bad token (401 like every other), not a malformed request. The body limit bounds it.
export const RefreshIn = Type.Object({ refresh_token: Type.String() })

export const LogoutIn = Type.Optional(
  Type.Object({
    all: Type.Optional(Type.Boolean({ description: 'end every session of the user' })),
  }),
)

/** RFC 7009 §2.1 / RFC 7662 §2.1 form; `token` is checked by the service (400, not 422). */
export const TokenFormIn = Type.Object({
  token: Type.Optional(OpaqueToken),
  token_type_hint: Type.Optional(Type.String({ maxLength: 64 })),
  client_id: Type.Optional(Type.String({ maxLength: 255 })),
  client_secret: Type.Optional(Type.String({ maxLength: 1024 })),
})

export const IntrospectionOut = Type.Object({
  active: Type.Boolean(),
  sub: Type.Optional(Type.String()),
  sid: Type.Optional(Type.String()),
  client_id: Type.Optional(Type.String()),
  exp: Type.Optional(Type.Integer()),
  iat: Type.Optional(Type.Integer()),
  iss: Type.Optional(Type.String()),
  aud: Type.Optional(Type.String()),
  scope: Type.Optional(Type.String()),
  token_type: Type.Optional(Type.String()),
  jti: Type.Optional(Type.String()),
  username: Type.Optional(Type.String()),
})

export const SessionOut = Type.Object({
  id: Uuid,
  created_at: Type.String({ format: 'date-time' }),
  last_used_at: Type.String({ format: 'date-time' }),
  user_agent: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  current: Type.Boolean(),
  client_id: Type.String({ description: 'the client the session was opened for' }),
  client_name: Type.Union([Type.String(), Type.Null()]),
})
export type SessionOut = Static<typeof SessionOut>

export function toSessionOut(
  s: Session & { current: boolean; client_name: string | null },
): SessionOut {
  return {
    id: s.id,
    created_at: s.created_at.toISOString(),
    last_used_at: s.last_used_at.toISOString(),
    user_agent: s.user_agent,
    ip: s.ip,
    current: s.current,
    client_id: s.client_id,
    client_name: s.client_name,
  }
}
