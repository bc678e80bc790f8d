import { createRemoteJWKSet, customFetch, jwtVerify } from 'jose'
import { describe, expect, it } from 'vitest'
import { rotateKeys } from '../../src/services/keys/signing-keys.js'
import { createUser, loginAs } from '../helpers/factories.js'
import { listeningApp, tempDataDir } from '../helpers/server.js'

describe('a separate verifier that knows only the JWKS URL', () => {
  it('accepts EdDSA tokens before and after a key rotation', async () => {
    const { app, base, config } = await listeningApp({
      jwtAlgorithm: 'EdDSA',
      dataDir: tempDataDir(),
    })
    // As another service would: no shared secret, just the published keys, with jose's
    // default caching. The set is fetched once, before the rotation: the key that signs
    // after it was published ahead (a refetch right away would fall in jose's 30 s cooldown).
    let fetches = 0
    const keySet = createRemoteJWKSet(new URL(`${base}/.well-known/jwks.json`), {
      [customFetch]: (url, init) => {
        fetches++
        return fetch(url, init)
      },
    })
    const verify = (token: string) =>
      jwtVerify(token, keySet, {
        issuer: base,
        audience: 'keygate',
        algorithms: ['EdDSA'],
        typ: 'at+jwt',
      })

    const user = await createUser(app)
    const before = (await loginAs(app, user)).tokens.access_token
    const first = await verify(before)
    expect(first.payload.sub).toBe(user.id)

    const { kid } = await rotateKeys(config)
    const after = (await loginAs(app, user)).tokens.access_token
    const second = await verify(after)
    expect(second.protectedHeader.kid).toBe(kid)
    expect(second.protectedHeader.kid).not.toBe(first.protectedHeader.kid)
    // The old token still verifies.
    expect((await verify(before)).payload.sub).toBe(user.id)
    expect(fetches).toBe(1)
  })

  it('rejects a token signed by a key Keygate never published', async () => {
    const a = await listeningApp({ jwtAlgorithm: 'EdDSA', dataDir: tempDataDir() })
    const b = await listeningApp({ jwtAlgorithm: 'EdDSA', dataDir: tempDataDir() })
    const token = (await loginAs(b.app, await createUser(b.app))).tokens.access_token
    const keySet = createRemoteJWKSet(new URL(`${a.base}/.well-known/jwks.json`))
    await expect(jwtVerify(token, keySet, { audience: 'keygate' })).rejects.toMatchObject({
      code: 'ERR_JWKS_NO_MATCHING_KEY',
    })
  })
})
