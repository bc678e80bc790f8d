import { generateKeyPairSync } from 'node:crypto'
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { ConfigError } from '../../src/config.js'
import { generateKeys, loadSigningKeys, rotateKeys } from '../../src/services/keys/signing-keys.js'
import { testConfig } from '../helpers/config.js'
import { must } from '../helpers/must.js'
import { tempDataDir } from '../helpers/server.js'

const T0 = new Date('2026-01-01T00:00:00Z')
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000)
const edConfig = (over = {}) =>
  testConfig({ jwtAlgorithm: 'EdDSA', dataDir: tempDataDir(), ...over })
const storedKids = (path: string) =>
  (JSON.parse(readFileSync(path, 'utf8')).keys as { kid: string }[]).map((k) => k.kid)

describe('generateKeys', () => {
  it('writes a one-key JWK set readable only by its owner, and will not overwrite it', async () => {
    const config = edConfig()
    const { path, kid, next } = await generateKeys(config)
    expect(path).toBe(join(config.dataDir, 'signing-keys.json'))
    expect(statSync(path).mode & 0o777).toBe(0o600)
    expect(storedKids(path)).toEqual([next, kid])
    await expect(generateKeys(config)).rejects.toThrow(/already exists/)
    const again = await generateKeys(config, { force: true })
    expect(storedKids(path)).toEqual([again.next, again.kid])
    expect(again.kid).not.toBe(kid)
  })

  it('refuses HS256, which has no key pair', async () => {
    await expect(generateKeys(testConfig({ dataDir: tempDataDir() }))).rejects.toBeInstanceOf(
      ConfigError,
    )
  })
})

describe('rotateKeys', () => {
  it('promotes the pending key and publishes a new one', async () => {
    const config = edConfig()
    const gen = await generateKeys(config)
    const rot = await rotateKeys(config)
    expect(rot.kid).toBe(gen.next)
    expect(rot.retained).toEqual([gen.kid])
    expect(storedKids(rot.path)).toEqual([rot.next, gen.next, gen.kid])
    const keys = await loadSigningKeys(config)
    expect(keys.current.kid).toBe(gen.next)
  })

  it('keeps retired keys only while tokens they signed can be unexpired', async () => {
    const config = edConfig({ accessTokenExpireMinutes: 30 })
    const k1 = (await generateKeys(config, { now: at(0) })).kid
    const k2 = (await rotateKeys(config, { now: at(0) })).kid
    const k3 = await rotateKeys(config, { now: at(10) })
    expect(k3.retained).toEqual([k2, k1])
    // At 2h: k2 was retired at 10 min, k1 at 0; both past 30 min (+1 min skew).
    const k4 = await rotateKeys(config, { now: at(120) })
    expect(k4.retained).toEqual([k3.kid])
    expect(storedKids(k4.path)).toEqual([k4.next, k4.kid, k3.kid])
  })

  it('rotating a PEM key writes a JWK set that keeps the PEM key verifying', async () => {
    const file = join(tempDataDir(), 'key.pem')
    const { privateKey } = generateKeyPairSync('ed25519')
    writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }))
    const config = edConfig({ jwtPrivateKeyFile: file })
    const before = (await loadSigningKeys(config)).current.kid!
    const rot = await rotateKeys(config)
    expect(storedKids(file)).toEqual([rot.next, rot.kid, before])
  })
})

describe('loadSigningKeys', () => {
  it('refuses to generate a key in production', async () => {
    const config = edConfig({ production: true })
    const err = await loadSigningKeys(config).catch((e) => e)
    expect(err).toBeInstanceOf(ConfigError)
    expect(err.message).toMatch(/^JWT_PRIVATE_KEY_FILE: no key file .* NODE_ENV=production/)
  })

  it('a named key file must exist', async () => {
    const config = edConfig({ jwtPrivateKeyFile: join(tempDataDir(), 'missing.json') })
    await expect(loadSigningKeys(config)).rejects.toThrow(
      /^JWT_PRIVATE_KEY_FILE: .* does not exist/,
    )
  })

  it('reads a PKCS#8 PEM private key and publishes its public half with a kid', async () => {
    const file = join(tempDataDir(), 'key.pem')
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }))
    const keys = await loadSigningKeys(
      edConfig({ jwtAlgorithm: 'ES256', jwtPrivateKeyFile: file, production: true }),
    )
    const { keys: published } = keys.jwks()
    expect(published).toHaveLength(1)
    expect(published[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' })
    expect(published[0]).not.toHaveProperty('d')
    const current = keys.current
    expect(current.kid).toBe(must(published[0]).kid)
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'ES256' }).sign(current.key)
    expect(token.split('.')).toHaveLength(3)
    expect(keys.verificationKey(current.kid)).toBeDefined()
    expect(keys.verificationKey('unknown')).toBeUndefined()
  })

  it('refuses a key file whose newest key is of another algorithm', async () => {
    const config = edConfig()
    await generateKeys(config)
    await expect(loadSigningKeys({ ...config, jwtAlgorithm: 'ES256' })).rejects.toThrow(
      /^JWT_ALGORITHM: the signing key/,
    )
  })
})
