import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { reloadSigningKeys } from '../../src/app.js'
import { type StoredJwk, writeKeyFile } from '../../src/services/keys/key-files.js'
import {
  createFileKeys,
  generateKeys,
  KEY_RECHECK_MS,
} from '../../src/services/keys/signing-keys.js'
import { buildTestApp } from '../helpers/app.js'
import { testConfig } from '../helpers/config.js'
import { createUser, loginAs } from '../helpers/factories.js'
import { tempDataDir } from '../helpers/server.js'

// Issue 14: a signing key removed from the key file kept verifying until a restart.
const readKeys = (path: string): StoredJwk[] => JSON.parse(readFileSync(path, 'utf8')).keys

/** The key file with its signer removed and the pending key promoted in its place. */
async function dropSigner(path: string): Promise<{ removed: string; signer: string }> {
  const keys = readKeys(path)
  const signer = keys.find((k) => !k.pending)!
  const { pending: _, ...promoted } = keys.find((k) => k.pending)!
  await writeKeyFile(path, [promoted as StoredJwk])
  return { removed: signer.kid, signer: promoted.kid }
}

describe('key file reload', () => {
  it('a removed key stops verifying once the recheck interval has passed', async () => {
    const config = testConfig({ jwtAlgorithm: 'EdDSA', dataDir: tempDataDir() })
    const { path, kid } = await generateKeys(config)
    let now = 0
    const keys = await createFileKeys(path, 'EdDSA', { now: () => now })
    expect(keys.verificationKey(kid)).toBeDefined()
    const { removed, signer } = await dropSigner(path)
    expect(removed).toBe(kid)
    now += KEY_RECHECK_MS - 1
    await keys.syncIfStale()
    expect(keys.verificationKey(kid)).toBeDefined()
    now += 1
    await keys.syncIfStale()
    expect(keys.verificationKey(kid)).toBeUndefined()
    expect(keys.current.kid).toBe(signer)
  })

  it('reload() re-reads at once, whatever the interval', async () => {
    const config = testConfig({ jwtAlgorithm: 'EdDSA', dataDir: tempDataDir() })
    const { path, kid } = await generateKeys(config)
    const keys = await createFileKeys(path, 'EdDSA', { now: () => 0 })
    await dropSigner(path)
    await keys.syncIfStale()
    expect(keys.verificationKey(kid)).toBeDefined()
    await keys.reload()
    expect(keys.verificationKey(kid)).toBeUndefined()
  })

  it('reloadSigningKeys(app), for SIGHUP, makes a running server drop a removed key at once', async () => {
    const dataDir = tempDataDir()
    const config = testConfig({ jwtAlgorithm: 'EdDSA', dataDir })
    const { path } = await generateKeys(config)
    // The recheck interval never passes here: only the reload can drop the key.
    const keys = await createFileKeys(path, 'EdDSA', { now: () => 0 })
    const { app } = await buildTestApp({ jwtAlgorithm: 'EdDSA', dataDir }, { keys })
    const { headers } = await loginAs(app, await createUser(app))
    const me = () => app.inject({ method: 'GET', url: '/api/v1/users/me', headers })
    expect((await me()).statusCode).toBe(200)
    await dropSigner(path)
    expect((await me()).statusCode).toBe(200)
    await reloadSigningKeys(app)
    expect((await me()).statusCode).toBe(401)
  })

  it('a running server refuses tokens of a removed key within about a second', async () => {
    const dataDir = tempDataDir()
    const { app } = await buildTestApp({ jwtAlgorithm: 'EdDSA', dataDir })
    const { headers } = await loginAs(app, await createUser(app))
    const me = () => app.inject({ method: 'GET', url: '/api/v1/users/me', headers })
    expect((await me()).statusCode).toBe(200)
    await dropSigner(join(dataDir, 'signing-keys.json'))
    // Real time: the key file's freshness is wall-clock I/O, not policy time.
    await expect
      .poll(async () => (await me()).statusCode, { timeout: 5000, interval: 200 })
      .toBe(401)
  })
})
