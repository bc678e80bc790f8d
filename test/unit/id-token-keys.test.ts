import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { reloadSigningKeys } from '../../src/app.js'
import { runCli } from '../../src/cli/index.js'
import { ConfigError } from '../../src/config.js'
import {
  idTokenKeySet,
  loadIdTokenKeys,
  rotateIdTokenKeys,
} from '../../src/services/keys/id-token-keys.js'
import { loadSigningKeys } from '../../src/services/keys/signing-keys.js'
import { buildTestApp } from '../helpers/app.js'
import { testConfig } from '../helpers/config.js'
import { tempDataDir } from '../helpers/server.js'

const storedKids = (path: string) =>
  (JSON.parse(readFileSync(path, 'utf8')).keys as { kid: string }[]).map((k) => k.kid)

describe('ID-token keys', () => {
  it('HS256: an RS256 set is generated into DATA_DIR once, owner-readable, and kept', async () => {
    const config = testConfig({ dataDir: tempDataDir() })
    const access = await loadSigningKeys(config)
    // Instances starting together: one writes the file, every one reads the same keys.
    const [a, b] = await Promise.all([
      loadIdTokenKeys(config, access),
      loadIdTokenKeys(config, access),
    ])
    const path = join(config.dataDir, 'id-token-keys.json')
    expect(statSync(path).mode & 0o777).toBe(0o600)
    expect(a.alg).toBe('RS256')
    expect(a.current.kid).toBe(b.current.kid)
    expect(storedKids(path)).toContain(a.current.kid)
    const again = await loadIdTokenKeys(config, access)
    expect(again.current.kid).toBe(a.current.kid)
  })

  it('an ID_TOKEN_KEY_FILE that does not exist stops start-up', async () => {
    const config = testConfig({ idTokenKeyFile: join(tempDataDir(), 'missing.json') })
    await expect(loadIdTokenKeys(config, await loadSigningKeys(config))).rejects.toBeInstanceOf(
      ConfigError,
    )
  })

  it('an asymmetric JWT_ALGORITHM signs ID tokens with the access-token keys', async () => {
    const config = testConfig({ jwtAlgorithm: 'ES256', dataDir: tempDataDir() })
    const access = await loadSigningKeys(config)
    expect(await loadIdTokenKeys(config, access)).toBe(access)
  })

  it('rotates with keygate keys rotate --id-token; the JWKS and SIGHUP reload follow', async () => {
    const dataDir = tempDataDir()
    const { app, config } = await buildTestApp({ dataDir })
    const jwks = async () =>
      (await app.inject({ method: 'GET', url: '/.well-known/jwks.json' }))
        .json()
        .keys.map((k: { kid: string }) => k.kid)
    const before = await jwks()
    let out = ''
    const stdout = new PassThrough().on('data', (d) => (out += d))
    const code = await runCli(['keys', 'rotate', '--id-token', '--json'], {
      env: { DATA_DIR: dataDir, SECRET_KEY: config.secretKey! },
      stdin: new PassThrough(),
      stdout,
      stderr: new PassThrough(),
    })
    expect(code).toBe(0)
    const { kid, path } = JSON.parse(out)
    expect(path).toBe(idTokenKeySet(config).path)
    // The key that signs now was published before the rotation (as the pending one).
    expect(before).toContain(kid)
    await reloadSigningKeys(app)
    expect(await jwks()).toEqual(storedKids(path))
    expect((await jwks())[1]).toBe(kid)
  })

  it('rotateIdTokenKeys under an asymmetric algorithm rotates the access-token keys', async () => {
    const config = testConfig({ jwtAlgorithm: 'EdDSA', dataDir: tempDataDir() })
    await loadSigningKeys(config)
    const { path } = await rotateIdTokenKeys(config)
    expect(path).toBe(join(config.dataDir, 'signing-keys.json'))
  })
})
