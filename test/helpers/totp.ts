import type { FastifyInstance } from 'fastify'
import { generate } from 'otplib'
import { expect } from 'vitest'
import type { TestClock } from './clock.js'

/** The TOTP code of `secret` at the app's clock (plus `offsetSeconds`), as an authenticator app computes it. */
export const totpAt = (secret: string, clock: TestClock, offsetSeconds = 0) =>
  generate({ secret, epoch: Math.floor(clock.now().getTime() / 1000) + offsetSeconds })

/** Enrols and confirms TOTP for the bearer's account; answers the secret and recovery codes. */
export async function enableTotp(
  app: FastifyInstance,
  clock: TestClock,
  headers: Record<string, string>,
  password: string,
): Promise<{ secret: string; recoveryCodes: string[] }> {
  const enrol = await app.inject({
    method: 'POST',
    url: '/api/v1/users/me/mfa/totp',
    headers,
    payload: { password },
  })
  expect(enrol.statusCode, enrol.body).toBe(200)
  const { secret } = enrol.json() as { secret: string }
  const confirm = await app.inject({
    method: 'POST',
    url: '/api/v1/users/me/mfa/totp/confirm',
    headers,
    payload: { code: await totpAt(secret, clock) },
  })
  expect(confirm.statusCode, confirm.body).toBe(200)
  // The step just used is spent: later codes in a test come from the next one.
  clock.advanceSeconds(30)
  return { secret, recoveryCodes: confirm.json().recovery_codes }
}
