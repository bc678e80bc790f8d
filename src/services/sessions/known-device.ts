import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Clock } from '../../domain/time.js'
import { DAY_MS } from '../../domain/time.js'

/** How long a client stays "known" to an account after its last sign-in there. */
export const KNOWN_DEVICE_DAYS = 180

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * OWASP's device cookie (Slow Down Online Guessing Attacks with Device
 * Cookies): a marker set on a successful sign-in, binding the account, a
 * random device id and an expiry under an HMAC of the server secret. A client
 * that presents a live marker for the account it signs in to spends its own
 * failure budget instead of the account's ceiling (throttle.ts), so an
 * attacker spraying guesses cannot lock the owner out.
 */
export function createKnownDevices(key: Uint8Array, clock: Clock) {
  const mac = (body: string) => createHmac('sha256', key).update(`v1.${body}`).digest()

  return {
    /** A fresh marker for the account: `userId.deviceId.expiry.mac`. */
    issue(userId: string): string {
      const exp = Math.floor((clock.now().getTime() + KNOWN_DEVICE_DAYS * DAY_MS) / 1000)
      const body = `${userId}.${randomBytes(16).toString('base64url')}.${exp}`
      return `${body}.${mac(body).toString('base64url')}`
    },

    /** The device id of a live marker issued for `userId`; undefined for anything else. */
    verify(marker: string | undefined, userId: string): string | undefined {
      const parts = marker?.split('.')
      if (parts?.length !== 4) return undefined
      const [id, device, exp, tag] = parts as [string, string, string, string]
      if (!UUID.test(id) || id.toLowerCase() !== userId.toLowerCase()) return undefined
      if (!/^\d{1,12}$/.test(exp) || Number(exp) * 1000 <= clock.now().getTime()) return undefined
      // Compared as text, so only the canonical encoding of the MAC passes.
      const given = Buffer.from(tag)
      const wanted = Buffer.from(mac(`${id}.${device}.${exp}`).toString('base64url'))
      if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) return undefined
      return device
    },
  }
}

export type KnownDevices = ReturnType<typeof createKnownDevices>
