import { randomUUID } from 'node:crypto'
import { describe, expect, it, onTestFinished } from 'vitest'
import { migrateToLatest } from '../../src/db/migrate.js'
import type { User } from '../../src/domain/user.js'
import type { ErrorName } from '../../src/errors.js'
import { createPasskeysRepo } from '../../src/repos/accounts/passkeys.js'
import { createUsersRepo } from '../../src/repos/accounts/users.js'
import { createAuditEventsRepo } from '../../src/repos/audit-events.js'
import { createTransact } from '../../src/repos/support/transaction.js'
import { createPasskeysService, FRESH_SIGN_IN_MS } from '../../src/services/accounts/passkeys.js'
import { CHALLENGE_TTL_MS } from '../../src/services/accounts/webauthn-challenges.js'
import { createTestClock } from '../helpers/clock.js'
import { createTestDatabase } from '../helpers/db.js'
import { createSoftAuthenticator } from '../helpers/soft-authenticator.js'

const ORIGIN = 'http://localhost:8000'

async function setup() {
  const database = await createTestDatabase()
  onTestFinished(() => database.close())
  await migrateToLatest(database.db)
  const clock = createTestClock()
  const users = createUsersRepo(database.db)
  const passkeys = createPasskeysService({
    config: { publicUrl: `${ORIGIN}/some/prefix` },
    clock,
    users,
    passkeys: createPasskeysRepo(database.db),
    transact: createTransact(database.db),
    audit: createAuditEventsRepo(database.db),
  })
  const newUser = async (): Promise<User> =>
    users.insert({
      id: randomUUID(),
      email: `${randomUUID()}@example.com`,
      username: null,
      hashed_password: 'x',
      is_active: true,
      is_superuser: false,
      created_at: clock.now(),
    })
  /** Registers a passkey for `user` on `device` through the service. */
  const enrol = async (user: User, device = createSoftAuthenticator({ origin: ORIGIN })) => {
    const { options, handle } = await passkeys.registrationOptions(user, clock.now())
    const passkey = await passkeys.register(user, clock.now(), handle, device.register(options))
    return { device, passkey }
  }
  return { passkeys, clock, users, newUser, enrol }
}

const fails = (p: Promise<unknown>, code: ErrorName) => expect(p).rejects.toMatchObject({ code })

describe('passkeys service', () => {
  it('asks for a discoverable, user-verified credential on PUBLIC_URL host, excluding known ones', async () => {
    const { passkeys, newUser, enrol, clock } = await setup()
    const user = await newUser()
    const first = await passkeys.registrationOptions(user, clock.now())
    expect(first.options.rp.id).toBe('localhost')
    expect(first.options.authenticatorSelection).toMatchObject({
      residentKey: 'required',
      userVerification: 'required',
    })
    expect(first.options.excludeCredentials).toEqual([])
    const { passkey } = await enrol(user)
    expect(passkey).toMatchObject({ user_id: user.id, name: 'Passkey 1', counter: 0 })
    const second = await passkeys.registrationOptions(user, clock.now())
    expect(second.options.excludeCredentials?.map((c) => c.id)).toEqual([passkey.credential_id])
    expect(second.handle).not.toBe(first.handle)
    expect(JSON.stringify(second.options)).not.toContain(second.handle)
  })

  it('signs in passwordless with a discoverable credential: amr hwk+user, counter and last use kept', async () => {
    const { passkeys, newUser, enrol, clock } = await setup()
    const user = await newUser()
    const { device, passkey } = await enrol(user)
    const { options, handle } = await passkeys.authenticationOptions()
    expect(options.allowCredentials ?? []).toEqual([])
    expect(options.userVerification).toBe('required')
    clock.advance(1000)
    const result = await passkeys.authenticate(handle, device.authenticate(options))
    expect(result.user.id).toBe(user.id)
    expect(result.amr).toEqual(['hwk', 'user'])
    const [stored] = await passkeys.list(user.id)
    expect(stored).toMatchObject({ id: passkey.id, counter: 1, last_used_at: clock.now() })
  })

  it('says swk for a synced (backup-eligible) passkey', async () => {
    const { passkeys, newUser, enrol } = await setup()
    const user = await newUser()
    const synced = createSoftAuthenticator({ origin: ORIGIN, synced: true })
    const { passkey } = await enrol(user, synced)
    expect(passkey).toMatchObject({ device_type: 'multiDevice', backed_up: true })
    const { options, handle } = await passkeys.authenticationOptions()
    expect((await passkeys.authenticate(handle, synced.authenticate(options))).amr).toEqual([
      'swk',
      'user',
    ])
  })

  it('spends a challenge once, and not after 5 minutes, and only for its ceremony', async () => {
    const { passkeys, newUser, enrol, clock } = await setup()
    const user = await newUser()
    const { device } = await enrol(user)
    const a = await passkeys.authenticationOptions()
    await passkeys.authenticate(a.handle, device.authenticate(a.options))
    await fails(
      passkeys.authenticate(a.handle, device.authenticate(a.options)),
      'PASSKEY_CHALLENGE_INVALID',
    )
    const b = await passkeys.authenticationOptions()
    clock.advance(CHALLENGE_TTL_MS + 1)
    await fails(
      passkeys.authenticate(b.handle, device.authenticate(b.options)),
      'PASSKEY_CHALLENGE_INVALID',
    )
    await fails(
      passkeys.authenticate(undefined, device.authenticate(b.options)),
      'PASSKEY_CHALLENGE_INVALID',
    )
    await fails(
      passkeys.authenticate('made-up', device.authenticate(b.options)),
      'PASSKEY_CHALLENGE_INVALID',
    )
    // A registration handle does not open a sign-in, nor the reverse.
    const r = await passkeys.registrationOptions(user, clock.now())
    await fails(
      passkeys.authenticate(r.handle, device.authenticate(b.options)),
      'PASSKEY_CHALLENGE_INVALID',
    )
    const c = await passkeys.authenticationOptions()
    await fails(
      passkeys.register(user, clock.now(), c.handle, device.register(r.options)),
      'PASSKEY_CHALLENGE_INVALID',
    )
  })

  it('refuses a challenge the client makes up: only the stored one counts', async () => {
    const { passkeys, newUser, enrol, clock } = await setup()
    const user = await newUser()
    const { device } = await enrol(user)
    const mine = await passkeys.authenticationOptions()
    const other = await passkeys.authenticationOptions()
    // The answer signs `other`'s challenge but comes with `mine`'s handle.
    await fails(
      passkeys.authenticate(mine.handle, device.authenticate(other.options)),
      'PASSKEY_REJECTED',
    )
    const r = await passkeys.registrationOptions(user, clock.now())
    const forged = device.register(r.options, { challenge: other.options.challenge })
    await fails(passkeys.register(user, clock.now(), r.handle, forged), 'PASSKEY_REJECTED')
  })

  it('refuses another origin or RP ID, in both ceremonies', async () => {
    const { passkeys, newUser, enrol, clock } = await setup()
    const user = await newUser()
    const { device } = await enrol(user)
    for (const forge of [
      { origin: 'http://evil.example' },
      { origin: 'https://localhost:8000' },
      { rpId: 'evil.example' },
    ]) {
      const r = await passkeys.registrationOptions(user, clock.now())
      await fails(
        passkeys.register(user, clock.now(), r.handle, device.register(r.options, forge)),
        'PASSKEY_REJECTED',
      )
      const a = await passkeys.authenticationOptions()
      await fails(
        passkeys.authenticate(a.handle, device.authenticate(a.options, forge)),
        'PASSKEY_REJECTED',
      )
    }
    expect(await passkeys.list(user.id)).toHaveLength(1)
  })

  it('requires user verification, in both ceremonies', async () => {
    const { passkeys, newUser, enrol, clock } = await setup()
    const user = await newUser()
    const lax = createSoftAuthenticator({ origin: ORIGIN, userVerified: false })
    const r = await passkeys.registrationOptions(user, clock.now())
    await fails(
      passkeys.register(user, clock.now(), r.handle, lax.register(r.options)),
      'PASSKEY_REJECTED',
    )
    const { device } = await enrol(user)
    const unverified = createSoftAuthenticator({ origin: ORIGIN, userVerified: false })
    unverified.credentials.push(...device.credentials)
    const a = await passkeys.authenticationOptions()
    await fails(
      passkeys.authenticate(a.handle, unverified.authenticate(a.options)),
      'PASSKEY_REJECTED',
    )
  })

  it('as a second factor: only that user’s credentials are asked for and accepted', async () => {
    const { passkeys, newUser, enrol } = await setup()
    const alice = await newUser()
    const bob = await newUser()
    const { device, passkey } = await enrol(alice)
    const bobs = await enrol(bob)
    await fails(passkeys.authenticationOptions((await newUser()).id), 'NO_PASSKEYS')
    const a = await passkeys.authenticationOptions(alice.id)
    expect(a.options.allowCredentials?.map((c) => c.id)).toEqual([passkey.credential_id])
    // Bob's valid passkey does not answer a challenge issued for Alice.
    const b = await passkeys.authenticationOptions(alice.id)
    await fails(
      passkeys.authenticate(
        b.handle,
        bobs.device.authenticate(b.options, { credential: bobs.device.credentials[0] }),
      ),
      'PASSKEY_REJECTED',
    )
    expect((await passkeys.authenticate(a.handle, device.authenticate(a.options))).user.id).toBe(
      alice.id,
    )
  })

  it('refuses a user handle naming someone else, a counter that did not grow, and an inactive user', async () => {
    const { passkeys, newUser, enrol, users, clock } = await setup()
    const user = await newUser()
    const { device } = await enrol(user)
    const other = Buffer.from(randomUUID()).toString('base64url')
    const a = await passkeys.authenticationOptions()
    await fails(
      passkeys.authenticate(a.handle, device.authenticate(a.options, { userHandle: other })),
      'PASSKEY_REJECTED',
    )
    const b = await passkeys.authenticationOptions()
    await passkeys.authenticate(b.handle, device.authenticate(b.options))
    // A clone replays an old counter value.
    const cred = device.credentials[0]
    if (cred) cred.counter -= 2
    const c = await passkeys.authenticationOptions()
    await fails(passkeys.authenticate(c.handle, device.authenticate(c.options)), 'PASSKEY_REJECTED')
    if (cred) cred.counter += 5
    await users.update(user.id, { is_active: false }, clock.now())
    const d = await passkeys.authenticationOptions()
    await fails(passkeys.authenticate(d.handle, device.authenticate(d.options)), 'INACTIVE_USER')
  })

  it('renames and deletes only the owner’s passkeys; a deleted one no longer signs in', async () => {
    const { passkeys, newUser, enrol } = await setup()
    const user = await newUser()
    const stranger = await newUser()
    const { device, passkey } = await enrol(user)
    await fails(passkeys.rename(stranger.id, passkey.id, 'Mine now'), 'PASSKEY_NOT_FOUND')
    await fails(passkeys.rename(user.id, 'not-a-uuid', 'x'), 'PASSKEY_NOT_FOUND')
    await expect(passkeys.rename(user.id, passkey.id, '   ')).rejects.toMatchObject({
      statusCode: 422,
    })
    expect((await passkeys.rename(user.id, passkey.id, '  Laptop  ')).name).toBe('Laptop')
    expect((await passkeys.list(user.id)).map((p) => p.name)).toEqual(['Laptop'])
    await fails(passkeys.remove(stranger.id, passkey.id), 'PASSKEY_NOT_FOUND')
    await passkeys.remove(user.id, passkey.id)
    await fails(passkeys.remove(user.id, passkey.id), 'PASSKEY_NOT_FOUND')
    expect(await passkeys.list(user.id)).toEqual([])
    const a = await passkeys.authenticationOptions()
    await fails(passkeys.authenticate(a.handle, device.authenticate(a.options)), 'PASSKEY_REJECTED')
  })

  it('adds a passkey only within 10 minutes of signing in', async () => {
    const { passkeys, newUser, clock } = await setup()
    const user = await newUser()
    const device = createSoftAuthenticator({ origin: ORIGIN })
    const signedIn = clock.now()
    await fails(passkeys.registrationOptions(user, null), 'PASSKEY_REAUTH_REQUIRED')
    clock.advance(FRESH_SIGN_IN_MS - 1000)
    const { options, handle } = await passkeys.registrationOptions(user, signedIn)
    // The sign-in grows stale during the ceremony: the answer is refused too.
    clock.advance(2000)
    await fails(
      passkeys.register(user, signedIn, handle, device.register(options)),
      'PASSKEY_REAUTH_REQUIRED',
    )
    await fails(passkeys.registrationOptions(user, signedIn), 'PASSKEY_REAUTH_REQUIRED')
    expect(await passkeys.list(user.id)).toEqual([])
  })

  it('refuses a credential already registered, to anyone', async () => {
    const { passkeys, newUser, enrol, clock } = await setup()
    const alice = await newUser()
    const bob = await newUser()
    const { device } = await enrol(alice)
    const r = await passkeys.registrationOptions(bob, clock.now())
    // An authenticator that hands Bob the key it made for Alice.
    const again = device.register(r.options, { reuse: device.credentials[0] })
    await fails(passkeys.register(bob, clock.now(), r.handle, again), 'PASSKEY_EXISTS')
    expect(await passkeys.list(bob.id)).toEqual([])
  })
})
