import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { onTestFinished } from 'vitest'
import type { BuildOptions } from '../../src/app.js'
import type { Config } from '../../src/config.js'
import { systemClock } from '../../src/domain/time.js'
import { buildTestApp } from './app.js'

/** A fresh directory for key files, removed after the test. */
export function tempDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'keygate-test-'))
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A port that was free a moment ago: the issuer must name the real port before the app exists. */
async function freePort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

/**
 * A real app listening on 127.0.0.1, with PUBLIC_URL/JWT_ISSUER equal to its
 * URL and the system clock (outside verifiers check `exp` against real time)
 * unless `options.clock` is given.
 */
export async function listeningApp(overrides: Partial<Config> = {}, options: BuildOptions = {}) {
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const t = await buildTestApp(
    { host: '127.0.0.1', port, publicUrl: base, jwtIssuer: base, ...overrides },
    // A test that computes TOTP codes passes a clock it moves (options.clock).
    { clock: systemClock, ...options },
  )
  await t.app.listen({ host: '127.0.0.1', port })
  return { ...t, base }
}
