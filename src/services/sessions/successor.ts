import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'

// The successor of a spent refresh token is kept sealed (AES-256-GCM) under a
// key derived from the spent token and the server secret. Only someone who
// presents the spent token can open it, and the database alone (which holds
// only token hashes) cannot: a dump still yields no usable refresh token.
const INFO = 'keygate refresh successor v1'

function keyFor(parent: string, secret: Uint8Array): Buffer {
  return Buffer.from(hkdfSync('sha256', parent, secret, INFO, 32))
}

/** Seals `successor` so that only the holder of `parent` can open it. */
export function sealSuccessor(parent: string, successor: string, secret: Uint8Array): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', keyFor(parent, secret), iv)
  const body = Buffer.concat([cipher.update(successor, 'utf8'), cipher.final()])
  return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')
}

/** The successor sealed for `parent`, or undefined when it does not open. */
export function openSuccessor(
  parent: string,
  sealed: string,
  secret: Uint8Array,
): string | undefined {
  const raw = Buffer.from(sealed, 'base64url')
  if (raw.length < 12 + 16 + 1) return undefined
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyFor(parent, secret), raw.subarray(0, 12))
    decipher.setAuthTag(raw.subarray(raw.length - 16))
    return Buffer.concat([
      decipher.update(raw.subarray(12, raw.length - 16)),
      decipher.final(),
    ]).toString('utf8')
  } catch {
    return undefined
  }
}
