import { type TSchema, Type } from 'typebox'

export const Uuid = Type.String({ format: 'uuid' })
export const IdParams = Type.Object({ id: Uuid })

export const PageQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  // Bounded so a huge offset is a 422, not an out-of-range integer in SQL (a 500).
  offset: Type.Integer({ minimum: 0, maximum: 2_147_483_647, default: 0 }),
})

export const Page = <T extends TSchema>(item: T) =>
  Type.Object({ items: Type.Array(item), total: Type.Integer() })

export const ErrorOut = Type.Object({ detail: Type.String() })

export const ValidationErrorOut = Type.Object({
  detail: Type.Array(
    Type.Object({
      loc: Type.Array(Type.Union([Type.String(), Type.Integer()])),
      msg: Type.String(),
      type: Type.String(),
    }),
  ),
})

/** RFC 6749 §5.2 error body, with FastAPI's `detail` beside it. */
export const OAuthErrorOut = Type.Object({
  error: Type.String(),
  error_description: Type.String(),
  detail: Type.String(),
})

export const Empty = Type.Null({ description: 'No content' })
