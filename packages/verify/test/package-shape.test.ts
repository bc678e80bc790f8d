// The package as it would be published: dist/ (built by `npm run build -w @keygate/verify`,
// which `npm test` runs first) loaded by plain Node through the exports map.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8'))

describe('@keygate/verify package shape', () => {
  it('depends on jose alone and ships ESM + types for every export', () => {
    expect(Object.keys(pkg.dependencies)).toEqual(['jose'])
    expect(pkg.peerDependencies).toBeUndefined()
    expect(pkg.type).toBe('module')
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      if (typeof target === 'string') continue
      const { types, import: js } = target as { types: string; import: string }
      for (const file of [types, js]) {
        expect(existsSync(`${root}${file}`), `${subpath}: ${file} (run the build)`).toBe(true)
      }
    }
  })

  it('loads in plain Node by its name', () => {
    const script = `
      const main = await import('@keygate/verify')
      const fastify = await import('@keygate/verify/fastify')
      const express = await import('@keygate/verify/express')
      console.log(JSON.stringify([
        typeof main.createVerifier, typeof main.VerifyError, typeof main.sendVerifyError,
        typeof fastify.default, typeof fastify.keygateAuth, typeof express.keygateMiddleware,
      ]))`
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: root,
      encoding: 'utf8',
    })
    expect(r.stderr).toBe('')
    expect(JSON.parse(r.stdout)).toEqual(Array(6).fill('function'))
  })
})
