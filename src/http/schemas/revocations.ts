import { Type } from 'typebox'

export const RevocationsQuery = Type.Object({
  after: Type.Optional(
    Type.String({
      pattern: '^[0-9]{1,15}$',
      description: 'the `cursor` of the last page read; omit to read every retained entry',
    }),
  ),
  wait: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: 300,
      default: 0,
      description: 'seconds to hold the request while there is nothing new (capped at 30)',
    }),
  ),
})

export const RevocationOut = Type.Object({
  cursor: Type.String(),
  sid: Type.Optional(
    Type.String({ description: 'a revoked session: refuse tokens with this sid' }),
  ),
  sub: Type.Optional(
    Type.String({ description: 'a revoked user: refuse their tokens issued at or before `at`' }),
  ),
  until: Type.Integer({ description: 'NumericDate after which every token it covers has expired' }),
  at: Type.Integer({ description: 'NumericDate of the revocation' }),
  keep_jti: Type.Optional(
    Type.String({
      description:
        'on a `sid` entry (a password change): the one access token of the session still accepted',
    }),
  ),
})

export const RevocationsPageOut = Type.Object({
  items: Type.Array(RevocationOut),
  cursor: Type.String({ description: 'pass as `after` next time' }),
})
