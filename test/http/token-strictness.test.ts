import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { decodeJwt, importJWK, type JWTPayload, SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { buildTestApp } from '../helpers/app.js'
import { TEST_SECRET } from '../helpers/config.js'
import { createUser, loginAs } from '../helpers/factories.js'
import { tempDataDir } from '../helpers/server.js'

// Issue 14: a token forged with a known key must not live longer than Keygate
// issues tokens for, and its segments must be canonical base64url (RFC 7515 §2),
// on the HS256 fast path and on jose's path (EdDSA) alike.

async function setup(alg: 'HS256' | 'EdDSA') {
  const dataDir = tempDataDir()
  const t = await buildTestApp({ jwtAlgorithm: alg, dataDir })
  const user = await createUser(t.app)
  const { tokens } = await loginAs(t.app, user)
  const real = decodeJwt(tokens.access_token)
  let key: Parameters<SignJWT['sign']>[0] = new TextEncoder().encode(TEST_SECRET)
  let kid: string | undefined
  if (alg === 'EdDSA') {
    const file = JSON.parse(readFileSync(join(dataDir, 'signing-keys.json'), 'utf8'))
    const signer = file.keys.find((k: { pending?: boolean }) => !k.pending)
    key = (await importJWK(signer, 'EdDSA')) as typeof key
    kid = signer.kid
  }
  const forge = (over: JWTPayload, drop: string[] = []) => {
    const claims: JWTPayload = { ...real, ...over }
    for (const k of drop) delete claims[k]
    return new SignJWT(claims).setProtectedHeader({ alg, typ: 'at+jwt', kid }).sign(key)
  }
  const status = async (token: string) =>
    (
      await t.app.inject({
        method: 'GET',
        url: '/api/v1/users/me',
        headers: { authorization: `Bearer ${token}` },
      })
    ).statusCode
  const now = Math.floor(t.clock.now().getTime() / 1000)
  return { ...t, tokens, forge, status, now }
}

describe.each(['HS256', 'EdDSA'] as const)('%s verification', (alg) => {
  it('refuses a lifetime over ACCESS_TOKEN_EXPIRE_MINUTES, a missing iat, an iat ahead', async () => {
    const { forge, status, now, config, tokens } = await setup(alg)
    const ttl = config.accessTokenExpireMinutes * 60
    expect(await status(tokens.access_token)).toBe(200)
    expect(await status(await forge({ iat: now, exp: now + ttl }))).toBe(200)
    expect(await status(await forge({ iat: now, exp: now + 10 * 365 * 86400 }))).toBe(401)
    expect(await status(await forge({ iat: now, exp: now + ttl + 3600 }))).toBe(401)
    expect(await status(await forge({ exp: now + 60 }, ['iat']))).toBe(401)
    expect(await status(await forge({ iat: now + 3600, exp: now + 3600 + ttl }))).toBe(401)
  })

  it('refuses padded and non-canonical base64url spellings of a valid token', async () => {
    const { tokens, status } = await setup(alg)
    const [h, p, s] = tokens.access_token.split('.') as [string, string, string]
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    // HS256 signatures (32 bytes) and Ed25519 ones (64 bytes) leave unused low bits.
    const twin = s.slice(0, -1) + alphabet[alphabet.indexOf(s.at(-1)!) ^ 1]
    expect(Buffer.from(twin, 'base64url')).toEqual(Buffer.from(s, 'base64url'))
    const pad = (x: string) => x + '='.repeat((4 - (x.length % 4)) % 4 || 4)
    for (const t of [`${h}.${p}.${twin}`, `${pad(h)}.${p}.${s}`, `${h}.${pad(p)}.${s}`]) {
      expect(await status(t), t).toBe(401)
    }
    expect(await status(tokens.access_token)).toBe(200)
  })
})
