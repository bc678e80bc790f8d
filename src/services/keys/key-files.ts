import { randomBytes } from 'node:crypto'
import { link, mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import {
  type CryptoKey,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importPKCS8,
  type JWK,
} from 'jose'
import type { Config, JwtAlgorithm } from '../../config.js'

/**
 * A private JWK as kept in the key file. Keygate's own members (RFC 7517 §4
 * allows them): `iat`, when the key started signing (seconds); `pending`, a
 * key published ahead of its use.
 */
export type StoredJwk = JWK & { kid: string; alg: string; iat?: number; pending?: boolean }

// Members that never leave the file: private key parts (RFC 7518 §6.2.2, §6.3.2;
// RFC 8037 §2) and Keygate's bookkeeping.
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'iat', 'pending'] as const

/** Where the key set lives: JWT_PRIVATE_KEY_FILE, else DATA_DIR/signing-keys.json. */
export const keyFilePath = (config: Config): string =>
  config.jwtPrivateKeyFile ?? join(config.dataDir, 'signing-keys.json')

/** The public half of a stored key, as /.well-known/jwks.json publishes it. */
export function publicJwk(jwk: StoredJwk): JWK {
  const pub: Record<string, unknown> = { ...jwk, use: 'sig' }
  for (const m of PRIVATE_MEMBERS) delete pub[m]
  return pub as JWK
}

/** A fresh key pair for `alg`; `kid` is its RFC 7638 thumbprint. */
export async function newStoredKey(alg: JwtAlgorithm): Promise<StoredJwk> {
  const { privateKey } = await generateKeyPair(alg, {
    extractable: true,
    ...(alg === 'RS256' && { modulusLength: 3072 }),
  })
  return toStored(privateKey, alg)
}

async function toStored(key: CryptoKey, alg: string): Promise<StoredJwk> {
  const jwk = await exportJWK(key)
  const kid = await calculateJwkThumbprint(publicJwk({ ...jwk, kid: '', alg }))
  return { ...jwk, kid, alg }
}

/**
 * Reads a key file: a JWK set (`{"keys": [...]}`, newest first, the first one
 * signs) or a single PKCS#8 PEM private key for `alg`.
 */
export async function readKeyFile(path: string, alg: JwtAlgorithm): Promise<StoredJwk[]> {
  const text = await readFile(path, 'utf8')
  if (text.trimStart().startsWith('-----BEGIN')) {
    return [await toStored(await importPKCS8(text, alg, { extractable: true }), alg)]
  }
  const parsed = JSON.parse(text) as { keys?: unknown }
  if (!Array.isArray(parsed.keys) || parsed.keys.length === 0) {
    throw new Error(`${path}: expected a JWK set with at least one key`)
  }
  return parsed.keys.map((k: StoredJwk) => {
    if (typeof k.kid !== 'string' || typeof k.alg !== 'string' || typeof k.d !== 'string') {
      throw new Error(`${path}: every key needs "kid", "alg" and its private part`)
    }
    return k
  })
}

/** A cheap identity of the file's current content, to notice a rotation by another process. */
export async function fileStamp(path: string): Promise<string> {
  const s = await stat(path)
  return `${s.ino}:${s.size}:${s.mtimeMs}`
}

/** Writes the key set readable by its owner only, atomically (a reader never sees half a file). */
export async function writeKeyFile(path: string, keys: StoredJwk[]): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 })
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`
  await writeFile(tmp, `${JSON.stringify({ keys }, null, 2)}\n`, { mode: 0o600, flag: 'wx' })
  await rename(tmp, path)
}

/**
 * Writes the key set only if no file is there: the link fails when another
 * process created the file first, and that one's keys are kept.
 */
export async function writeKeyFileOnce(path: string, keys: StoredJwk[]): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 })
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`
  await writeFile(tmp, `${JSON.stringify({ keys }, null, 2)}\n`, { mode: 0o600, flag: 'wx' })
  try {
    await link(tmp, path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  } finally {
    await unlink(tmp)
  }
}

export async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  )
}
