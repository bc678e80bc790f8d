/** A registered WebAuthn credential (SPEC §9). */
export interface Passkey {
  id: string
  user_id: string
  /** base64url, as the browser reports it */
  credential_id: string
  /** COSE public key */
  public_key: Uint8Array<ArrayBuffer>
  counter: number
  transports: string[]
  /** WebAuthn backup eligibility: 'multiDevice' credentials may be synced off the device */
  device_type: 'singleDevice' | 'multiDevice'
  backed_up: boolean
  name: string
  created_at: Date
  last_used_at: Date | null
}

export type NewPasskey = Omit<Passkey, 'last_used_at'>

/** Names are shown back on the account page; 1–64 characters after trimming. */
export const PASSKEY_NAME_MAX_LENGTH = 64

/**
 * RFC 8176 methods for a passkey assertion. `hwk` (a hardware-secured key) only
 * for a device-bound credential: a backup-eligible or backed-up ("synced")
 * passkey may be copied to a cloud keychain and other devices, so its key is
 * not confined to one piece of hardware and counts as `swk`. User verification
 * is always required, so `user` is always present.
 */
export function passkeyAmr(p: Pick<Passkey, 'device_type' | 'backed_up'>): ['hwk' | 'swk', 'user'] {
  const confined = p.device_type === 'singleDevice' && !p.backed_up
  return [confined ? 'hwk' : 'swk', 'user']
}
