import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import type { User } from '../../src/domain/user.js'
import { loadIdTokenKeys } from '../../src/services/keys/id-token-keys.js'
import { loadSigningKeys } from '../../src/services/keys/signing-keys.js'
import { createIdTokenService } from '../../src/services/oidc/id-tokens.js'
import { claimsFor } from '../../src/services/oidc/user-claims.js'
import { createTestClock } from '../helpers/clock.js'
import { testConfig } from '../helpers/config.js'
import { tempDataDir } from '../helpers/server.js'

const ISSUER = 'https://auth.example.com'
const user: User = {
  id: '0b7d6a52-4c1e-4d38-9f5e-2f1d3c4b5a69',
  email: 'ann@example.com',
  username: 'ann',
  hashed_password: 'x',
  is_active: true,
  is_superuser: false,
  email_verified: false,
  created_at: new Date(0),
  updated_at: new Date(0),
}
const facts = (over = {}) => ({
  user,
  clientId: 'app-1',
  browserSessionId: 'c5a7b0b2-5f4a-4a8c-8b1e-0d6f1e2a3b4c',
  authTime: new Date('2025-12-31T23:59:00Z'),
  amr: ['pwd'],
  scopes: ['openid', 'profile', 'email'],
  nonce: 'n-0S6',
  ...over,
})

async function service(alg: 'HS256' | 'EdDSA' = 'HS256') {
  const config = testConfig({ jwtAlgorithm: alg, dataDir: tempDataDir() })
  const access = await loadSigningKeys(config)
  const keys = await loadIdTokenKeys(config, access)
  const clock = createTestClock()
  return {
    keys,
    clock,
    idTokens: createIdTokenService({ keys, issuer: ISSUER, ttlSeconds: 1800, clock }),
  }
}

describe('ID tokens', () => {
  it('carry the OIDC Core §2 claims and the scope claims, verifiable with the JWKS', async () => {
    const { keys, clock, idTokens } = await service()
    const token = await idTokens.issue(facts())
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'RS256', typ: 'JWT' })
    const { payload } = await jwtVerify(token, createLocalJWKSet(keys.jwks()), {
      issuer: ISSUER,
      audience: 'app-1',
      currentDate: clock.now(),
    })
    const iat = Math.floor(clock.now().getTime() / 1000)
    expect(payload).toEqual({
      iss: ISSUER,
      sub: user.id,
      aud: 'app-1',
      iat,
      exp: iat + 1800,
      auth_time: Math.floor(new Date('2025-12-31T23:59:00Z').getTime() / 1000),
      nonce: 'n-0S6',
      sid: 'c5a7b0b2-5f4a-4a8c-8b1e-0d6f1e2a3b4c',
      amr: ['pwd'],
      preferred_username: 'ann',
      email: 'ann@example.com',
      email_verified: false,
    })
  })

  it('release only what the scope allows, and no nonce when none was sent', async () => {
    const { idTokens } = await service('EdDSA')
    const token = await idTokens.issue(facts({ scopes: ['openid'], nonce: null }))
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString())
    expect(decodeProtectedHeader(token).alg).toBe('EdDSA')
    expect(claims).not.toHaveProperty('nonce')
    expect(claims).not.toHaveProperty('email')
    expect(claims).not.toHaveProperty('preferred_username')
    expect(claimsFor({ ...user, username: null }, ['profile'])).toEqual({})
  })

  it('an id_token_hint verifies by signature and issuer, expired or not', async () => {
    const { clock, idTokens } = await service()
    const token = await idTokens.issue(facts())
    clock.advanceSeconds(30 * 24 * 3600)
    expect(await idTokens.verifyHint(token)).toEqual({
      sub: user.id,
      aud: 'app-1',
      sid: 'c5a7b0b2-5f4a-4a8c-8b1e-0d6f1e2a3b4c',
    })
    const [h, p, s] = token.split('.')
    const other = JSON.parse(Buffer.from(p!, 'base64url').toString())
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...other, sub: 'x' })).toString('base64url')}.${s}`
    expect(await idTokens.verifyHint(tampered)).toBeUndefined()
    expect(await idTokens.verifyHint('not-a-jwt')).toBeUndefined()
    // Someone else's key, even with Keygate's issuer, is not a hint.
    const forged = await new SignJWT({ sub: user.id, aud: 'app-1' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(ISSUER)
      .sign(new TextEncoder().encode('k'.repeat(32)))
    expect(await idTokens.verifyHint(forged)).toBeUndefined()
  })
})
