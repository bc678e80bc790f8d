import { randomUUID } from 'node:crypto'
import {
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  type JWTHeaderParameters,
  type JWTPayload,
  SignJWT,
} from 'jose'
import { describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { TEST_SECRET } from '../helpers/config.js'
import { createUser, loginAs } from '../helpers/factories.js'

const secret = new TextEncoder().encode(TEST_SECRET)
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')

/** A logged-in user and a forger that, left alone, makes tokens Keygate accepts. */
async function setup() {
  const t = await buildTestApp()
  const user = await createUser(t.app)
  const { tokens } = await loginAs(t.app, user)
  const real = decodeJwt(tokens.access_token)
  const now = Math.floor(t.clock.now().getTime() / 1000)
  const claims: JWTPayload = {
    sub: real.sub,
    sid: real.sid,
    client_id: 'keygate',
    iss: t.config.jwtIssuer,
    aud: t.config.jwtAudience,
    iat: now,
    exp: now + 1800,
    jti: randomUUID(),
  }
  const forge = (
    over: { claims?: JWTPayload; header?: Partial<JWTHeaderParameters>; drop?: string[] } = {},
    key: Parameters<SignJWT['sign']>[0] = secret,
  ) => {
    const payload: JWTPayload = { ...claims, ...over.claims }
    for (const k of over.drop ?? []) delete payload[k]
    return new SignJWT(payload)
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', ...over.header })
      .sign(key)
  }
  return { ...t, user, tokens, claims, forge }
}

async function status(t: TestApp, token: string) {
  const res = await t.app.inject({
    method: 'GET',
    url: '/api/v1/users/me',
    headers: { authorization: `Bearer ${token}` },
  })
  if (res.statusCode === 401) {
    expect(res.json()).toEqual({ detail: 'Could not validate credentials' })
    expect(res.headers['www-authenticate']).toBe('Bearer realm="keygate", error="invalid_token"')
  }
  return res.statusCode
}

describe('access tokens', () => {
  it('carry every claim of SPEC "Tokens" with an at+jwt HS256 header', async () => {
    const t = await setup()
    const header = decodeProtectedHeader(t.tokens.access_token)
    expect(header).toEqual({ alg: 'HS256', typ: 'at+jwt' })
    const c = decodeJwt(t.tokens.access_token)
    expect(c.sub).toBe(t.user.id)
    expect(c.sid).toMatch(/^[0-9a-f-]{36}$/)
    expect(c.client_id).toBe('keygate')
    expect(c.iss).toBe(t.config.jwtIssuer)
    expect(c.iss).toBe(t.config.publicUrl)
    expect(c.aud).toBe('keygate')
    expect(c.jti).toMatch(/^[0-9a-f-]{36}$/)
    expect(c.iat).toBe(Math.floor(t.clock.now().getTime() / 1000))
    expect(c.exp).toBe(c.iat! + 30 * 60)
    const again = decodeJwt((await loginAs(t.app, t.user)).tokens.access_token)
    expect(again.jti).not.toBe(c.jti)
    expect(again.sid).not.toBe(c.sid)
  })

  it('a correctly forged token is accepted (the harness below is sound)', async () => {
    const t = await setup()
    expect(await status(t, await t.forge())).toBe(200)
  })

  it('expires after 30 minutes of the injected clock', async () => {
    const t = await setup()
    t.clock.advanceSeconds(29 * 60)
    expect(await status(t, t.tokens.access_token)).toBe(200)
    t.clock.advanceSeconds(2 * 60)
    expect(await status(t, t.tokens.access_token)).toBe(401)
  })

  it('refuses every forged or broken variant with 401', async () => {
    const t = await setup()
    const other = new TextEncoder().encode('another-secret-key-that-is-32-bytes!!!')
    const rsa = await generateKeyPair('RS256')
    const ec = await generateKeyPair('ES256')
    const jwk = await exportJWK(rsa.publicKey)
    const now = t.claims.iat!
    const [h, p, s] = t.tokens.access_token.split('.') as [string, string, string]
    const payload = decodeJwt(t.tokens.access_token)
    const flip = (x: string) => (x[0] === 'A' ? 'B' : 'A') + x.slice(1)

    const variants: Record<string, string | Promise<string>> = {
      'alg none': `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64(t.claims)}.`,
      'alg none, no typ': `${b64({ alg: 'none' })}.${b64(t.claims)}.`,
      'other HS256 key': t.forge({}, other),
      'jwk header': t.forge({
        header: { jwk: { kty: 'oct', k: 'AA' } as JWTHeaderParameters['jwk'] },
      }),
      'jwk header (rsa)': t.forge({ header: { jwk } }),
      'jku header': t.forge({ header: { jku: 'https://evil.example/jwks.json' } }),
      'x5u header': t.forge({ header: { x5u: 'https://evil.example/cert.pem' } }),
      'typ JWT': t.forge({ header: { typ: 'JWT' } }),
      'no typ': t.forge({ header: { typ: undefined } }),
      'tampered payload': `${h}.${b64({ ...payload, sub: randomUUID() })}.${s}`,
      'tampered payload (exp)': `${h}.${b64({ ...payload, exp: now + 999_999 })}.${s}`,
      'tampered signature': `${h}.${p}.${flip(s)}`,
      'no signature': `${h}.${p}.`,
      'header swapped to HS512': `${b64({ alg: 'HS512', typ: 'at+jwt' })}.${p}.${s}`,
      HS512: t.forge({ header: { alg: 'HS512' } }),
      'wrong iss': t.forge({ claims: { iss: 'https://evil.example' } }),
      'wrong aud': t.forge({ claims: { aud: 'someone-else' } }),
      'aud list without keygate': t.forge({ claims: { aud: ['a', 'b'] } }),
      'no iss': t.forge({ drop: ['iss'] }),
      'no aud': t.forge({ drop: ['aud'] }),
      'no exp': t.forge({ drop: ['exp'] }),
      'no sub': t.forge({ drop: ['sub'] }),
      'no sid': t.forge({ drop: ['sid'] }),
      'non-uuid sub': t.forge({ claims: { sub: 'admin' } }),
      'numeric sub': t.forge({ claims: { sub: 1 as unknown as string } }),
      'non-uuid sid': t.forge({ claims: { sid: '1 OR 1=1' } }),
      'unknown sid': t.forge({ claims: { sid: randomUUID() } }),
      'unknown sub': t.forge({ claims: { sub: randomUUID() } }),
      expired: t.forge({ claims: { iat: now - 3600, exp: now - 1800 } }),
      'not yet valid': t.forge({ claims: { nbf: now + 3600 } }),
      RS256: new SignJWT(t.claims)
        .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt' })
        .sign(rsa.privateKey),
      ES256: new SignJWT(t.claims)
        .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt' })
        .sign(ec.privateKey),
      'RS256 with its jwk': new SignJWT(t.claims)
        .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', jwk })
        .sign(rsa.privateKey),
    }
    for (const [name, token] of Object.entries(variants)) {
      expect(await status(t, await token), name).toBe(401)
    }
  })

  it('refuses a loop of garbage bearer values', async () => {
    const t = await setup()
    const [h, p] = t.tokens.access_token.split('.') as [string, string]
    const garbage = [
      'x',
      '.',
      '..',
      '...',
      'a.b.c',
      `${h}.${p}`,
      `${h}..`,
      `${t.tokens.access_token}.x`,
      `${t.tokens.access_token}x`,
      t.tokens.refresh_token,
      'eyJ',
      'eyJhbGciOiJub25lIn0.e30.',
      '\u0000\u0001',
      'ñ.ñ.ñ',
      '%00',
      '{"alg":"none"}',
      'null.null.null',
      '🔑.🔑.🔑',
      'a'.repeat(8192),
    ]
    for (let i = 0; i < 40; i++) {
      garbage.push(Buffer.from(`${i}:${'z'.repeat(i)}`).toString('base64url'))
      garbage.push(`${h}.${b64({ n: i })}.${'A'.repeat(i)}`)
    }
    for (const token of garbage) {
      const res = await t.app.inject({
        method: 'GET',
        url: '/api/v1/users/me',
        headers: { authorization: `Bearer ${token}` },
      })
      expect(res.statusCode, token.slice(0, 40)).toBe(401)
      expect(res.json().detail).toMatch(/^(Could not validate credentials|Not authenticated)$/)
    }
  })
})
