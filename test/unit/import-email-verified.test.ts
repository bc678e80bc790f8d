import { describe, expect, it } from 'vitest'
import { toNewUser } from '../../src/services/import/rows.js'

const HASH =
  '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g'
const row = (extra: Record<string, unknown>) =>
  toNewUser(
    { email: 'a@example.com', hashed_password: HASH, ...extra },
    () => undefined,
    new Date(),
  )

describe('import: email_verified column', () => {
  it('is kept when the file has it, else the account is unverified', () => {
    expect(row({ email_verified: 't' }).user?.email_verified).toBe(true)
    expect(row({ email_verified: '0' }).user?.email_verified).toBe(false)
    expect(row({}).user?.email_verified).toBe(false)
    expect(row({ email_verified: 'maybe' }).problems).toEqual([
      'email_verified must be true/false/1/0/t/f',
    ])
  })
})
