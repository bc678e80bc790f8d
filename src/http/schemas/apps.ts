import { type Static, Type } from 'typebox'
import type { ConnectedApp } from '../../domain/consent.js'
import { formatScope } from '../../domain/scopes.js'

/** Any client_id: one the user never consented to is a 404, whatever its shape. */
export const AppParams = Type.Object({ client_id: Type.String({ minLength: 1, maxLength: 255 }) })

export const AppOut = Type.Object({
  client_id: Type.String(),
  name: Type.String(),
  scope: Type.String({ description: 'the scopes the user allowed, space-separated' }),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
})
export type AppOut = Static<typeof AppOut>

export function toAppOut(app: ConnectedApp): AppOut {
  return {
    client_id: app.client_id,
    name: app.name,
    scope: formatScope(app.scope),
    created_at: app.created_at.toISOString(),
    updated_at: app.updated_at.toISOString(),
  }
}
