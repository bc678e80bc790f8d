import { type Static, Type } from 'typebox'
import { type Client, GRANT_TYPES } from '../../domain/client.js'
import { SCOPES } from '../../domain/scopes.js'

/** A client_id in a path: URL-safe characters only (generated ids are base64url). */
export const ClientIdParams = Type.Object({
  client_id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._~-]+$' }),
})

const RedirectUris = Type.Array(Type.String({ minLength: 1, maxLength: 2000 }), {
  maxItems: 50,
  description:
    'Matched as exact strings. https, or http only on 127.0.0.1 / [::1] (any port then matches, RFC 8252 §7.3), or a custom scheme for native apps; no fragments, no wildcards.',
})
const GrantTypes = Type.Array(Type.Union(GRANT_TYPES.map((g) => Type.Literal(g))), {
  minItems: 1,
  maxItems: GRANT_TYPES.length * 2,
})
const Scopes = Type.Array(Type.Union(SCOPES.map((s) => Type.Literal(s))), {
  maxItems: SCOPES.length * 2,
})
const Name = Type.String({ minLength: 1, maxLength: 200 })

export const ClientCreateIn = Type.Object({
  name: Name,
  type: Type.Union([Type.Literal('public'), Type.Literal('confidential')]),
  redirect_uris: Type.Optional(RedirectUris),
  post_logout_redirect_uris: Type.Optional(RedirectUris),
  grant_types: Type.Optional(GrantTypes),
  scopes: Type.Optional(Scopes),
  first_party: Type.Optional(Type.Boolean()),
})

/** Any setting but the id and the type (a type change would need a secret made or dropped). */
export const ClientPatchIn = Type.Object({
  name: Type.Optional(Name),
  redirect_uris: Type.Optional(RedirectUris),
  post_logout_redirect_uris: Type.Optional(RedirectUris),
  grant_types: Type.Optional(GrantTypes),
  scopes: Type.Optional(Scopes),
  first_party: Type.Optional(Type.Boolean()),
})

const clientFields = {
  client_id: Type.String(),
  name: Type.String(),
  type: Type.Union([Type.Literal('public'), Type.Literal('confidential')]),
  redirect_uris: Type.Array(Type.String()),
  post_logout_redirect_uris: Type.Array(Type.String()),
  grant_types: Type.Array(Type.String()),
  scopes: Type.Array(Type.String()),
  first_party: Type.Boolean(),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
}

export const ClientOut = Type.Object(clientFields)
export type ClientOut = Static<typeof ClientOut>

/** Registration and rotation: the client and, this once, its secret (confidential clients). */
export const ClientWithSecretOut = Type.Object({
  ...clientFields,
  client_secret: Type.Optional(
    Type.String({ description: 'Shown only in this answer; Keygate keeps only a hash of it' }),
  ),
})

export const ClientList = Type.Object({ items: Type.Array(ClientOut), total: Type.Integer() })

/** The public view of a client: an explicit copy, so no secret hash can ever leave. */
export function toClientOut(c: Client): ClientOut {
  return {
    client_id: c.client_id,
    name: c.name,
    type: c.type,
    redirect_uris: c.redirect_uris,
    post_logout_redirect_uris: c.post_logout_redirect_uris,
    grant_types: c.grant_types,
    scopes: c.scopes,
    first_party: c.first_party,
    created_at: c.created_at.toISOString(),
    updated_at: c.updated_at.toISOString(),
  }
}
