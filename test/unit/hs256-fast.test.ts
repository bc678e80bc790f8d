import { createHmac } from 'node:crypto'
import fc from 'fast-check'
import { SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { type FastVerdict, signHs256, verifyHs256Fast } from '../../src/services/crypto/hs256.js'
import { referenceVerify } from '../helpers/jwt-reference.js'

// The fast path must never accept what jose rejects, nor reject what jose accepts:
// each case is judged by both, with the options access-tokens.ts gives jose, plus
// Keygate's two stricter rules (test/helpers/jwt-reference.ts).
const KEY = new TextEncoder().encode('test-secret-key-that-is-32-bytes-long!!')
const ISS = 'http://keygate.test'
const AUD = 'keygate'
const NOW = 1_700_000_000
const TTL = 1800
const REQUIRED = ['exp', 'iat', 'sub', 'sid', 'jti']
const SUB = '0b5e8a3e-3f4c-4a57-9d43-4c9b3e0a6f11'
const SID = '5a8e2a56-0c1e-4f39-b0a4-9f5d2c7e8b10'

const b64 = (v: unknown) =>
  Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url')
const mac = (input: string, key = KEY) =>
  createHmac('sha256', key).update(input).digest('base64url')
function sign(header: unknown, claims: unknown, key = KEY): string {
  const input = `${b64(header)}.${b64(claims)}`
  return `${input}.${mac(input, key)}`
}
const HEADER = { alg: 'HS256', typ: 'at+jwt' }
const CLAIMS = {
  sub: SUB,
  sid: SID,
  jti: 'j',
  client_id: 'keygate',
  iss: ISS,
  aud: AUD,
  iat: NOW - 10,
  exp: NOW + 600,
}

const fast = (token: string): FastVerdict =>
  verifyHs256Fast(token, {
    keyFor: () => KEY,
    issuer: ISS,
    audience: AUD,
    requiredClaims: REQUIRED,
    now: NOW,
    maxLifetimeSeconds: TTL,
  })

const jose = (token: string) =>
  referenceVerify(token, {
    key: KEY,
    issuer: ISS,
    audience: AUD,
    requiredClaims: REQUIRED,
    now: NOW,
    maxLifetimeSeconds: TTL,
    skewSeconds: 30,
  })

/** Asserts the fast verdict agrees with jose's (or defers), and returns it. */
async function agree(token: string): Promise<FastVerdict> {
  const f = fast(token)
  const j = await jose(token)
  if (f === 'invalid') expect(j).toBe('invalid')
  else if (f !== 'defer') expect(f.payload).toEqual(j)
  return f
}

describe('HS256 fast path', () => {
  it('accepts the token Keygate issues, with the same claims jose returns', async () => {
    const v = await agree(sign(HEADER, CLAIMS))
    expect(v).toEqual({ payload: CLAIMS })
    expect(await agree(sign({ ...HEADER, kid: 'k1' }, CLAIMS))).toEqual({ payload: CLAIMS })
  })

  it('rejects a forged signature, expiry, wrong iss/aud and a missing claim', async () => {
    const token = sign(HEADER, CLAIMS)
    expect(await agree(`${token.slice(0, -2)}AA`)).toBe('invalid')
    expect(
      await agree(
        sign(HEADER, CLAIMS, new TextEncoder().encode('another-key-of-32-bytes-or-more!!')),
      ),
    ).toBe('invalid')
    expect(await agree(sign(HEADER, { ...CLAIMS, exp: NOW }))).toBe('invalid')
    expect(await agree(sign(HEADER, { ...CLAIMS, exp: String(NOW + 600) }))).toBe('invalid')
    expect(await agree(sign(HEADER, { ...CLAIMS, nbf: NOW + 5 }))).toBe('invalid')
    expect(await agree(sign(HEADER, { ...CLAIMS, iss: 'http://evil.test' }))).toBe('invalid')
    expect(await agree(sign(HEADER, { ...CLAIMS, aud: 'other' }))).toBe('invalid')
    expect(await agree(sign(HEADER, { ...CLAIMS, iat: '1' }))).toBe('invalid')
    for (const claim of [...REQUIRED, 'iss', 'aud']) {
      const { [claim]: _, ...rest } = CLAIMS as Record<string, unknown>
      expect(await agree(sign(HEADER, rest))).toBe('invalid')
    }
  })

  it('never accepts an unusual header: alg none/other, typ, crit, embedded keys', async () => {
    const headers: unknown[] = [
      { alg: 'none', typ: 'at+jwt' },
      { alg: 'HS512', typ: 'at+jwt' },
      { alg: 'RS256', typ: 'at+jwt' },
      { alg: 'HS256' },
      { alg: 'HS256', typ: 'JWT' },
      { alg: 'HS256', typ: 'application/at+jwt' },
      { ...HEADER, crit: ['exp'], exp: 1 },
      { ...HEADER, b64: false, crit: ['b64'] },
      { ...HEADER, jwk: { kty: 'oct', k: 'AA' } },
      { ...HEADER, jku: 'https://evil.test/jwks' },
      { ...HEADER, x5u: 'https://evil.test/cert' },
      { ...HEADER, x5c: ['AA'] },
      { ...HEADER, kid: 7 },
      ['HS256'],
    ]
    for (const h of headers) expect(await agree(sign(h, CLAIMS))).not.toHaveProperty('payload')
    const noneToken = `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64(CLAIMS)}.`
    expect(await agree(noneToken)).toBe('defer')
  })

  it('defers malformed encodings to jose instead of judging them', async () => {
    const [h, p, s] = sign(HEADER, CLAIMS).split('.') as [string, string, string]
    for (const t of [
      `${h}.${p}`,
      `${h}.${p}.${s}.x`,
      `${h}=.${p}.${s}`,
      `${h}.${p}A.${s}`,
      `${h}.${p}.${s}A`,
      '',
    ]) {
      expect(await agree(t)).not.toHaveProperty('payload')
    }
    const notUtf8 = `${b64(HEADER)}.${Buffer.from([0xff, 0xfe, 0x7b, 0x7d]).toString('base64url')}`
    expect(await agree(`${notUtf8}.${mac(notUtf8)}`)).toBe('defer')
    const array = `${b64(HEADER)}.${b64([CLAIMS])}`
    expect(await agree(`${array}.${mac(array)}`)).toBe('defer')
  })

  it('agrees with jose on random headers, claims and corruptions', async () => {
    const claimValue = fc.oneof(
      fc.constantFrom(ISS, AUD, NOW, NOW - 1, NOW + 1, [AUD], ['x']),
      fc.string(),
      fc.integer(),
    )
    const header = fc.record(
      {
        alg: fc.constantFrom('HS256', 'none', 'HS384'),
        typ: fc.constantFrom('at+jwt', 'JWT', 'AT+JWT'),
        kid: fc.string(),
        crit: fc.constant(['b64']),
        jwk: fc.constant({}),
      },
      { requiredKeys: [] },
    )
    const claims = fc.dictionary(
      fc.constantFrom('iss', 'aud', 'exp', 'iat', 'nbf', 'sub', 'sid', 'jti'),
      claimValue,
    )
    await fc.assert(
      fc.asyncProperty(header, claims, fc.nat(200), fc.boolean(), async (h, c, cut, tamper) => {
        let token = sign({ ...HEADER, ...h }, { ...CLAIMS, ...c })
        if (tamper) token = token.slice(0, cut) + token.slice(cut + 1)
        await agree(token)
      }),
      { numRuns: 300 },
    )
  })

  it('signs the same bytes as jose SignJWT, for any claims and key id', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.option(fc.string({ unit: 'binary', maxLength: 12 }), { nil: undefined }),
        fc.string({ unit: 'binary', maxLength: 40 }),
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.uuid(),
        async (kid, clientId, iat, jti) => {
          const header: Record<string, unknown> = { alg: 'HS256', typ: 'at+jwt' }
          if (kid !== undefined) header.kid = kid
          const claims = {
            sid: SID,
            client_id: clientId,
            sub: SUB,
            iss: ISS,
            aud: AUD,
            iat,
            exp: iat + 900,
            jti,
          }
          const expected = await new SignJWT(claims).setProtectedHeader(header as never).sign(KEY)
          expect(signHs256(header, claims, KEY)).toBe(expected)
        },
      ),
      { numRuns: 200 },
    )
  })
})
