import { describe, expect, it } from 'vitest'
import { createVerifier, VerifyError } from '../src/index.js'
import { INTROSPECTION_SECRET, logout, startKeygate } from './helpers.js'

const INVALID = {
  status: 401,
  detail: 'Could not validate credentials',
  wwwAuthenticate: 'Bearer realm="keygate", error="invalid_token"',
}

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('accepted')
    },
    (err: unknown) => {
      expect(err).toBeInstanceOf(VerifyError)
      return err as VerifyError
    },
  )

describe('HS256 deployments: verification through introspection (RFC 7662)', () => {
  it('accepts a live token and refuses it once its session logged out', async () => {
    const k = await startKeygate('HS256', { introspectionSecret: INTROSPECTION_SECRET })
    const verifier = await createVerifier({
      issuer: k.base,
      audience: 'keygate',
      introspectionSecret: INTROSPECTION_SECRET,
    })
    const { user, access_token, refresh_token } = await k.login()
    const token = await verifier.verify(access_token)
    expect(token).toMatchObject({
      sub: user.id,
      client_id: 'keygate',
      scope: 'openid profile email offline_access posts:write account',
    })
    expect(token.sid).toMatch(/^[0-9a-f-]{36}$/)
    // A refresh token is not a bearer credential for an API, even while live.
    expect(await refusal(verifier.verify(refresh_token))).toMatchObject(INVALID)
    expect(await refusal(verifier.verify(`${access_token}x`))).toMatchObject(INVALID)
    expect(await refusal(verifier.verify('not-a-token'))).toMatchObject(INVALID)

    await logout(k, access_token)
    expect(await refusal(verifier.verify(access_token))).toMatchObject(INVALID)
  })

  it('checks the audience of the answer too', async () => {
    const k = await startKeygate('HS256', { introspectionSecret: INTROSPECTION_SECRET })
    const verifier = await createVerifier({
      issuer: k.base,
      audience: 'billing',
      introspectionSecret: INTROSPECTION_SECRET,
    })
    const { access_token } = await k.login()
    expect(await refusal(verifier.verify(access_token))).toMatchObject(INVALID)
  })

  it('fails at start-up on a wrong secret, and answers 503 when Keygate is gone', async () => {
    const k = await startKeygate('HS256', { introspectionSecret: INTROSPECTION_SECRET })
    await expect(
      createVerifier({
        issuer: k.base,
        audience: 'keygate',
        introspectionSecret: `${INTROSPECTION_SECRET}-wrong`,
      }),
    ).rejects.toThrow(/introspection at .* failed \(.*answered 401\); is introspectionSecret/)
    const verifier = await createVerifier({
      issuer: k.base,
      audience: 'keygate',
      introspectionSecret: INTROSPECTION_SECRET,
    })
    const { access_token } = await k.login()
    await k.app.close()
    expect(await refusal(verifier.verify(access_token))).toMatchObject({
      status: 503,
      detail: 'Service temporarily unavailable',
    })
  })

  it("with introspect: 'always', an asymmetric deployment refuses a logged-out token at once", async () => {
    const k = await startKeygate('EdDSA', { introspectionSecret: INTROSPECTION_SECRET })
    const local = await createVerifier({ issuer: k.base, audience: 'keygate' })
    const live = await createVerifier({
      issuer: k.base,
      audience: 'keygate',
      introspectionSecret: INTROSPECTION_SECRET,
      introspect: 'always',
    })
    const { access_token } = await k.login()
    await live.verify(access_token)
    await logout(k, access_token)
    expect(await refusal(live.verify(access_token))).toMatchObject(INVALID)
    // What "revoked" means without introspection until the feed exists: valid until exp.
    expect((await local.verify(access_token)).sub).toBeTruthy()
  })
})
