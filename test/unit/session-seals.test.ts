import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { createKnownDevices } from '../../src/services/sessions/known-device.js'
import { openSuccessor, sealSuccessor } from '../../src/services/sessions/successor.js'
import { createTestClock } from '../helpers/clock.js'

const key = randomBytes(32)
const USER = '6f1c9a52-3f0e-4d1b-9a55-0c2d7e8f9a10'

describe('sealed refresh successors', () => {
  it('open only with the parent token and the same key', () => {
    const parent = randomBytes(32).toString('base64url')
    const child = randomBytes(32).toString('base64url')
    const sealed = sealSuccessor(parent, child, key)
    expect(sealed).not.toContain(child)
    expect(openSuccessor(parent, sealed, key)).toBe(child)
    expect(openSuccessor(`${parent}x`, sealed, key)).toBeUndefined()
    expect(openSuccessor(parent, sealed, randomBytes(32))).toBeUndefined()
    // Two seals of one child differ (random IV).
    expect(sealSuccessor(parent, child, key)).not.toBe(sealed)
  })

  it('refuse tampered or truncated seals', () => {
    const parent = 'p'
    const sealed = Buffer.from(sealSuccessor(parent, 'child', key), 'base64url')
    for (let i = 0; i < sealed.length; i++) {
      const bad = Buffer.from(sealed)
      bad[i]! ^= 1
      expect(openSuccessor(parent, bad.toString('base64url'), key)).toBeUndefined()
    }
    expect(openSuccessor(parent, sealed.subarray(0, 20).toString('base64url'), key)).toBeUndefined()
    expect(openSuccessor(parent, '', key)).toBeUndefined()
  })
})

describe('known-device markers', () => {
  it('verify for their own account until they expire', () => {
    const clock = createTestClock()
    const devices = createKnownDevices(key, clock)
    const marker = devices.issue(USER)
    const id = devices.verify(marker, USER)
    expect(id).toMatch(/^[\w-]{22}$/)
    expect(devices.verify(marker, USER.toUpperCase())).toBe(id)
    expect(devices.verify(marker, '00000000-0000-4000-8000-000000000000')).toBeUndefined()
    expect(createKnownDevices(randomBytes(32), clock).verify(marker, USER)).toBeUndefined()
    clock.advanceSeconds(180 * 86_400)
    expect(devices.verify(marker, USER)).toBeUndefined()
  })

  it('refuse any change to a marker', () => {
    const devices = createKnownDevices(key, createTestClock())
    const marker = devices.issue(USER)
    for (let i = 0; i < marker.length; i++) {
      const c = marker[i] === 'a' ? 'b' : 'a'
      const bad = marker.slice(0, i) + c + marker.slice(i + 1)
      if (bad.toLowerCase() === marker.toLowerCase()) continue // case of the user id only
      expect(devices.verify(bad, USER), bad).toBeUndefined()
    }
    for (const junk of [undefined, '', 'a.b.c', 'a.b.c.d.e', `${marker}.`]) {
      expect(devices.verify(junk, USER)).toBeUndefined()
    }
  })
})
