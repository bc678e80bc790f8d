import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { generateKeyPair, SignJWT } from 'jose'
import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest'
import { rotateKeys } from '../../../src/services/keys/signing-keys.js'
import { metadataUrls } from '../src/discovery.js'
import { createVerifier, VerifyError } from '../src/index.js'
import { startKeygate } from './helpers.js'

/** fetch that counts what it fetched, by path. */
function countingFetch() {
  const seen: string[] = []
  const impl: typeof fetch = (input, init) => {
    seen.push(new URL(input instanceof Request ? input.url : String(input)).pathname)
    return fetch(input, init)
  }
  return { impl, seen, count: (path: string) => seen.filter((p) => p === path).length }
}

afterEach(() => {
  vi.useRealTimers()
})

describe('discovery and the key set', () => {
  it('refetches the JWKS once for a kid it does not know (a key rotated in), not per token', async () => {
    const k = await startKeygate('EdDSA')
    const f = countingFetch()
    const verifier = await createVerifier({ issuer: k.base, audience: 'keygate', fetch: f.impl })
    expect(f.count('/.well-known/oauth-authorization-server')).toBe(1)
    expect(f.count('/.well-known/jwks.json')).toBe(1)
    const before = (await k.login()).access_token
    await verifier.verify(before)

    // Keygate publishes the next key a rotation ahead; two rotations make a signer the
    // verifier has never seen.
    await rotateKeys(k.config)
    await rotateKeys(k.config)
    const after = (await k.login()).access_token
    // Past jose's 30 s refetch cooldown (only Date is faked; Keygate's tokens stay valid).
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.now() + 31_000)
    expect((await verifier.verify(after)).sub).toBeTruthy()
    expect(f.count('/.well-known/jwks.json')).toBe(2)
    await verifier.verify(after)
    await verifier.verify(before)
    expect(f.count('/.well-known/jwks.json')).toBe(2)

    // A token from a key Keygate never published: refused, and no refetch in the cooldown.
    const stranger = await generateKeyPair('EdDSA')
    const forged = await new SignJWT({ sub: 'x' })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: 'unknown' })
      .sign(stranger.privateKey)
    for (let i = 0; i < 3; i++) {
      await expect(verifier.verify(forged)).rejects.toMatchObject({ status: 401 })
    }
    expect(f.count('/.well-known/jwks.json')).toBe(2)
  })

  it('builds the RFC 8414 metadata URL, inserting the well-known segment before a path', () => {
    expect(metadataUrls('https://id.example.com')).toEqual([
      'https://id.example.com/.well-known/oauth-authorization-server',
    ])
    expect(metadataUrls('https://example.com/auth/')).toEqual([
      'https://example.com/.well-known/oauth-authorization-server/auth',
      'https://example.com/auth/.well-known/oauth-authorization-server',
    ])
  })

  it('says what failed when the issuer cannot be reached at start-up', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const { port } = s.address() as AddressInfo
        s.close(() => resolve(port))
      })
    })
    await expect(
      createVerifier({ issuer: `http://127.0.0.1:${port}`, audience: 'keygate' }),
    ).rejects.toThrow(/^@keygate\/verify: could not fetch metadata of http:\/\/127.0.0.1:\d+ \(/)
  })

  it('refuses an issuer whose metadata names another one (RFC 8414 §3.3)', async () => {
    const k = await startKeygate('EdDSA')
    await expect(createVerifier({ issuer: `${k.base}/`, audience: 'keygate' })).rejects.toThrow(
      /must be equal/,
    )
    const other = await startKeygate('EdDSA', { jwtIssuer: 'https://id.example.com' })
    await expect(createVerifier({ issuer: other.base, audience: 'keygate' })).rejects.toThrow(
      /names issuer "https:\/\/id.example.com"/,
    )
  })

  it('refuses to start on an HS256 Keygate without an introspection secret', async () => {
    const k = await startKeygate('HS256')
    await expect(createVerifier({ issuer: k.base, audience: 'keygate' })).rejects.toThrow(
      /publishes no asymmetric signing key.*introspectionSecret/,
    )
  })

  it('answers 503 (not 401) when Keygate cannot be reached for keys', async () => {
    // A stand-in issuer that serves metadata and keys, then goes away.
    const real = await startKeygate('EdDSA')
    const jwks = await (await fetch(`${real.base}/.well-known/jwks.json`)).text()
    let up = true
    const server = createServer((req, res) => {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
      res.setHeader('content-type', 'application/json')
      if (!up) res.writeHead(502).end()
      else if (req.url === '/.well-known/jwks.json') res.end(jwks)
      else res.end(JSON.stringify({ issuer: base, jwks_uri: `${base}/.well-known/jwks.json` }))
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    onTestFinished(() => new Promise<void>((r) => server.close(() => r())))
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const verifier = await createVerifier({ issuer: base, audience: 'keygate' })
    up = false
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.now() + 31_000)
    const newAlg = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt' })
      .sign((await generateKeyPair('ES256')).privateKey)
    const err = await verifier.verify(newAlg).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(VerifyError)
    expect(err).toMatchObject({
      status: 503,
      detail: 'Service temporarily unavailable',
      wwwAuthenticate: undefined,
      headers: { 'Retry-After': '5' },
    })
  })
})
