import { type Static, Type } from 'typebox'
import { PASSKEY_NAME_MAX_LENGTH, type Passkey } from '../../domain/passkey.js'
import { Uuid } from './common.js'

export const PasskeyName = Type.String({ minLength: 1, maxLength: PASSKEY_NAME_MAX_LENGTH })

export const PasskeyRenameIn = Type.Object({ name: PasskeyName })

/** A passkey as its owner sees it: never the credential id or public key. */
export const PasskeyOut = Type.Object({
  id: Uuid,
  name: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
  last_used_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  /** backed up to a cloud keychain (a synced passkey, amr `swk`) */
  synced: Type.Boolean(),
})
export type PasskeyOut = Static<typeof PasskeyOut>

export function toPasskeyOut(p: Passkey): PasskeyOut {
  return {
    id: p.id,
    name: p.name,
    created_at: p.created_at.toISOString(),
    last_used_at: p.last_used_at?.toISOString() ?? null,
    synced: p.device_type === 'multiDevice' || p.backed_up,
  }
}
