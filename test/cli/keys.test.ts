import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { runCli } from '../../src/cli/index.js'
import { tempDataDir } from '../helpers/server.js'

async function keygate(args: string[], env: Record<string, string>) {
  let out = ''
  let err = ''
  const stdout = new PassThrough().on('data', (d) => (out += d))
  const stderr = new PassThrough().on('data', (d) => (err += d))
  const code = await runCli(args, { env, stdin: new PassThrough(), stdout, stderr })
  return { code, out, err }
}

describe('keygate keys', () => {
  it('generate, then rotate: the new key first, the old one still listed', async () => {
    const dir = tempDataDir()
    const env = { JWT_ALGORITHM: 'EdDSA', DATA_DIR: dir }
    const gen = await keygate(['keys', 'generate'], env)
    expect(gen.code, gen.err).toBe(0)
    const [, kid] = /key (\S+) in/.exec(gen.out) ?? []
    const rot = await keygate(['keys', 'rotate'], env)
    expect(rot.code, rot.err).toBe(0)
    expect(rot.out).toContain(`still verifying: ${kid}`)
    const file = JSON.parse(readFileSync(join(dir, 'signing-keys.json'), 'utf8'))
    // pending, signing (the old pending one), retired (the first signing key)
    expect(file.keys).toHaveLength(3)
    expect(file.keys[2].kid).toBe(kid)
    expect((await keygate(['keys', 'generate'], env)).code).toBe(1)
    expect((await keygate(['keys', 'generate', '--force'], env)).code).toBe(0)
  })

  it('writes to JWT_PRIVATE_KEY_FILE when set', async () => {
    const file = join(tempDataDir(), 'prod-keys.json')
    const res = await keygate(['keys', 'generate'], {
      JWT_ALGORITHM: 'ES256',
      JWT_PRIVATE_KEY_FILE: file,
    })
    expect(res.code, res.err).toBe(0)
    expect(JSON.parse(readFileSync(file, 'utf8')).keys[0].alg).toBe('ES256')
  })

  it('explains HS256 and unknown actions', async () => {
    const hs = await keygate(['keys', 'generate'], { DATA_DIR: tempDataDir() })
    expect(hs.code).toBe(1)
    expect(hs.err).toMatch(/^keygate: JWT_ALGORITHM: /)
    const bad = await keygate(['keys', 'shuffle'], { JWT_ALGORITHM: 'EdDSA' })
    expect(bad.code).toBe(2)
    expect(bad.err).toContain('Usage: keygate keys generate')
  })
})
