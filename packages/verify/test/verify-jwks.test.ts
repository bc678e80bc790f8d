import { exportSPKI, generateKeyPair, type JWK, SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { createVerifier, type Verifier, VerifyError } from '../src/index.js'
import { type Keygate, keygateAnswer, startKeygate, unsignedToken } from './helpers.js'

const INVALID = {
  status: 401,
  detail: 'Could not validate credentials',
  wwwAuthenticate: 'Bearer realm="keygate", error="invalid_token"',
}

async function refusal(p: Promise<unknown>): Promise<VerifyError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(VerifyError)
  return err as VerifyError
}

async function expectInvalid(verifier: Verifier, token: string) {
  expect(await refusal(verifier.verify(token))).toMatchObject(INVALID)
}

const verifierFor = (k: Keygate, over: { audience?: string } = {}) =>
  createVerifier({ issuer: k.base, audience: over.audience ?? 'keygate' })

describe('createVerifier + verify against a real Keygate (JWKS)', () => {
  it.each(['EdDSA', 'ES256', 'RS256'] as const)(
    'accepts a %s token Keygate issued',
    async (alg) => {
      const k = await startKeygate(alg)
      const verifier = await verifierFor(k)
      const { user, access_token } = await k.login()
      const token = await verifier.verify(access_token)
      expect(token.sub).toBe(user.id)
      expect(token.sid).toMatch(/^[0-9a-f-]{36}$/)
      expect(token.client_id).toBe('keygate')
      // The password grant gives a user every scope but admin (SPEC §6).
      expect(token.scope).toBe('openid profile email offline_access posts:write account')
      expect(token.claims.iss).toBe(k.base)
      await verifier.close()
    },
  )

  it('refuses a tampered signature, payload or header with Keygate’s own 401', async () => {
    const k = await startKeygate('EdDSA')
    const verifier = await verifierFor(k)
    const { access_token } = await k.login()
    const [h, p, s] = access_token.split('.') as [string, string, string]
    const flipped = `${s.slice(0, 10)}${s[10] === 'A' ? 'B' : 'A'}${s.slice(11)}`
    await expectInvalid(verifier, `${h}.${p}.${flipped}`)
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString())
    const otherSub = Buffer.from(JSON.stringify({ ...claims, sub: crypto.randomUUID() }))
    await expectInvalid(verifier, `${h}.${otherSub.toString('base64url')}.${s}`)
    for (const junk of ['', 'x', 'a.b.c', `${h}.${p}`, 'x'.repeat(20_000)]) {
      await expectInvalid(verifier, junk)
    }
    // The same answer Keygate gives for the same token on its own routes.
    const own = await keygateAnswer(k, `Bearer ${h}.${p}.${flipped}`)
    expect(own).toEqual({
      status: INVALID.status,
      body: { detail: INVALID.detail },
      wwwAuthenticate: INVALID.wwwAuthenticate,
    })
  })

  it('refuses a wrong audience, a wrong issuer and a token of another type', async () => {
    const k = await startKeygate('EdDSA')
    const { access_token } = await k.login()
    await expectInvalid(await verifierFor(k, { audience: 'billing' }), access_token)
    const verifier = await verifierFor(k)
    await expectInvalid(verifier, await k.sign({ aud: 'billing' }))
    await expectInvalid(verifier, await k.sign({ iss: 'http://evil.example' }))
    await expectInvalid(verifier, await k.sign({}, { typ: 'JWT' }))
    await expectInvalid(verifier, await k.sign({ client_id: undefined }))
    // The control: the same signer with Keygate's claims passes.
    expect((await verifier.verify(await k.sign())).sub).toMatch(/^6f1c/)
  })

  it('refuses an expired token beyond 30 s of skew, and accepts one within it', async () => {
    const k = await startKeygate('ES256')
    const verifier = await verifierFor(k)
    const now = Math.floor(Date.now() / 1000)
    await expectInvalid(verifier, await k.sign({ iat: now - 700, exp: now - 31 }))
    expect(
      (await verifier.verify(await k.sign({ iat: now - 700, exp: now - 20 }))).sub,
    ).toBeTruthy()
    const strict = await createVerifier({
      issuer: k.base,
      audience: 'keygate',
      clockToleranceSeconds: 0,
    })
    await expectInvalid(strict, await k.sign({ iat: now - 700, exp: now - 20 }))
    await expect(
      createVerifier({ issuer: k.base, audience: 'keygate', clockToleranceSeconds: 31 }),
    ).rejects.toThrow(/clockToleranceSeconds/)
  })

  it('refuses alg none, HS256 keyed with the public key, and keys carried in the token', async () => {
    const k = await startKeygate('RS256')
    const verifier = await verifierFor(k)
    const { access_token } = await k.login()
    const [, payload] = access_token.split('.') as [string, string]
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString())
    await expectInvalid(verifier, unsignedToken({ alg: 'none', typ: 'at+jwt' }, claims))
    await expectInvalid(verifier, unsignedToken({ alg: 'none', typ: 'at+jwt' }, claims, 'x'))

    // Algorithm confusion (RFC 8725 §2.1): the published RSA key as an HMAC secret.
    const jwks = (await (await fetch(`${k.base}/.well-known/jwks.json`)).json()) as { keys: JWK[] }
    const published = jwks.keys[0]!
    const { importJWK } = await import('jose')
    const pem = await exportSPKI(
      (await importJWK(published, 'RS256', { extractable: true })) as never,
    )
    for (const secret of [pem, JSON.stringify(published)]) {
      const forged = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: published.kid! })
        .sign(new TextEncoder().encode(secret))
      await expectInvalid(verifier, forged)
    }

    // An attacker's own key embedded in the header (RFC 8725 §3.10).
    const attacker = await generateKeyPair('RS256', { extractable: true })
    const { exportJWK } = await import('jose')
    const embedded = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', jwk: await exportJWK(attacker.publicKey) })
      .sign(attacker.privateKey)
    await expectInvalid(verifier, embedded)
    expect((await verifier.verify(access_token)).sub).toBe(claims.sub)
  })

  it('requires scopes: 403 naming what is needed, as Keygate answers', async () => {
    const k = await startKeygate('EdDSA')
    const verifier = await verifierFor(k)
    const writer = await k.sign({ scope: 'posts:write account' })
    expect((await verifier.verify(writer, { scope: 'posts:write' })).scope).toBe(
      'posts:write account',
    )
    await verifier.verify(writer, { scope: ['account', 'posts:write'] })
    await verifier.verify(writer, { scope: 'account posts:write' })
    expect(await refusal(verifier.verify(writer, { scope: 'admin' }))).toMatchObject({
      status: 403,
      detail: 'Not enough permissions',
      wwwAuthenticate: 'Bearer realm="keygate", error="insufficient_scope", scope="admin"',
    })
    const both = await refusal(verifier.verify(writer, { scope: ['account', 'admin'] }))
    expect(both.wwwAuthenticate).toBe(
      'Bearer realm="keygate", error="insufficient_scope", scope="account admin"',
    )
    // A user's password-grant token carries posts:write, never admin.
    const { access_token } = await k.login()
    expect((await verifier.verify(access_token, { scope: 'posts:write' })).scope).toContain(
      'posts:write',
    )
    expect((await refusal(verifier.verify(access_token, { scope: 'admin' }))).status).toBe(403)
    // A token without a scope claim holds nothing here: the verifier cannot know the user.
    expect((await refusal(verifier.verify(await k.sign(), { scope: 'openid' }))).status).toBe(403)
    // A bad token is a 401 even where a scope is required: validity comes first.
    expect((await refusal(verifier.verify('x', { scope: 'admin' }))).status).toBe(401)
  })

  it('reads Authorization like Keygate: scheme case-insensitive, missing → Not authenticated', async () => {
    const k = await startKeygate('EdDSA')
    const verifier = await verifierFor(k)
    const { user, access_token } = await k.login()
    const req = (authorization?: string) => ({ headers: { authorization } })
    expect((await verifier.verifyRequest(req(`bEaReR   ${access_token} `))).sub).toBe(user.id)
    const fetchRequest = new Request('http://x/', {
      headers: { authorization: `Bearer ${access_token}` },
    })
    expect((await verifier.verifyRequest(fetchRequest)).sub).toBe(user.id)
    for (const header of [undefined, '', `Basic ${access_token}`, `Token ${access_token}`]) {
      const err = await refusal(verifier.verifyRequest(req(header)))
      const own = await keygateAnswer(k, header)
      expect(err).toMatchObject({ status: 401, detail: 'Not authenticated' })
      expect(err.wwwAuthenticate).toBe('Bearer realm="keygate"')
      expect(own).toEqual({ status: 401, body: err.body, wwwAuthenticate: err.wwwAuthenticate })
    }
    for (const header of ['Bearer', 'Bearer   ']) {
      const err = await refusal(verifier.verifyRequest(req(header)))
      expect(err).toMatchObject(INVALID)
      expect(await keygateAnswer(k, header)).toMatchObject({ status: 401, body: err.body })
    }
  })
})
