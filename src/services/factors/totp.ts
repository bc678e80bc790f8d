import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { generateSecret, generateURI, verify } from 'otplib'
import QRCode from 'qrcode'

/**
 * RFC 6238 as authenticator apps implement it: SHA-1, 6 digits, 30-second
 * steps. A code of the step before or after now is accepted too (clock drift).
 */
export const TOTP_PERIOD_SECONDS = 30
const CODE = /^\d{6}$/

/**
 * The time step a code belongs to, or undefined when it matches none of now
 * and the steps around it. Only steps after `afterStep` count: a code once
 * accepted is never accepted again (no replay within its window).
 */
export async function matchTotp(
  secret: string,
  code: string,
  nowMs: number,
  afterStep: number | null,
): Promise<number | undefined> {
  if (!CODE.test(code)) return undefined
  const epoch = Math.floor(nowMs / 1000)
  const result = await verify({
    secret,
    token: code,
    epoch,
    period: TOTP_PERIOD_SECONDS,
    epochTolerance: TOTP_PERIOD_SECONDS,
    ...(afterStep !== null && { afterTimeStep: afterStep }),
  }).catch(() => ({ valid: false as const }))
  return result.valid ? Math.floor(epoch / TOTP_PERIOD_SECONDS) + result.delta : undefined
}

/** A new secret (160 bits, base32), its otpauth:// URI and that URI as a QR code (SVG). */
export async function newTotpSecret(issuer: string, account: string) {
  const secret = generateSecret()
  const otpauthUri = generateURI({ secret, issuer, label: account })
  const qrSvg = await QRCode.toString(otpauthUri, { type: 'svg', errorCorrectionLevel: 'M' })
  return { secret, otpauthUri, qrSvg }
}

/**
 * The secret must be read back to check codes, so it cannot be hashed: it is
 * sealed with AES-256-GCM under a key derived from the server secret, with
 * the user's id as associated data (a sealed secret copied to another account
 * does not open there).
 */
export function sealTotpSecret(key: Buffer, userId: string, secret: string): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  cipher.setAAD(Buffer.from(userId, 'utf8'))
  const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()])
  return `v1.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`
}

/** The secret, or undefined when the seal does not open (another server secret, tampering). */
export function openTotpSecret(key: Buffer, userId: string, sealed: string): string | undefined {
  if (!sealed.startsWith('v1.')) return undefined
  const raw = Buffer.from(sealed.slice(3), 'base64url')
  if (raw.length < 29) return undefined
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12))
    decipher.setAAD(Buffer.from(userId, 'utf8'))
    decipher.setAuthTag(raw.subarray(12, 28))
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8')
  } catch {
    return undefined
  }
}
