// A real Keygate per test (from the repository's own test helpers), and the means to sign
// tokens with its private key, as only the issuer could: expired, wrong audience, and so on.
import { importJWK, type JWTHeaderParameters, type JWTPayload, SignJWT } from 'jose'
import type { Config, JwtAlgorithm } from '../../../src/config.js'
import { keyFilePath, readKeyFile } from '../../../src/services/keys/key-files.js'
import { createUser, loginAs, type TestUser } from '../../../test/helpers/factories.js'
import { listeningApp, tempDataDir } from '../../../test/helpers/server.js'

export const INTROSPECTION_SECRET = 'introspection-secret-of-at-least-32-bytes!'

export type Keygate = Awaited<ReturnType<typeof startKeygate>>

/** Keygate listening on 127.0.0.1 with `alg` (asymmetric keys in a fresh data dir). */
export async function startKeygate(alg: JwtAlgorithm, overrides: Partial<Config> = {}) {
  const k = await listeningApp({ jwtAlgorithm: alg, dataDir: tempDataDir(), ...overrides })
  let user: TestUser | undefined
  return {
    ...k,
    /** A fresh login of one test user: its access and refresh tokens. */
    async login() {
      user ??= await createUser(k.app)
      return { user, ...(await loginAs(k.app, user)).tokens }
    },
    /** Signs with Keygate's current signing key: claims and header override a valid token. */
    async sign(claims: JWTPayload = {}, header: Partial<JWTHeaderParameters> = {}) {
      const stored = await readKeyFile(keyFilePath(k.config), alg)
      const signer = stored.find((key) => !key.pending)!
      const now = Math.floor(Date.now() / 1000)
      const payload = {
        sub: '6f1c1b8e-6c1e-4c59-9a56-0c2f8d1f8a11',
        sid: '0a8e1c3d-2b4f-4e6a-8c9d-1e2f3a4b5c6d',
        client_id: 'keygate',
        iss: k.base,
        aud: k.config.jwtAudience,
        iat: now,
        exp: now + 600,
        jti: 'test-jti',
        ...claims,
      }
      return new SignJWT(payload)
        .setProtectedHeader({ alg, typ: 'at+jwt', kid: signer.kid, ...header })
        .sign(await importJWK(signer, alg))
    },
  }
}

/** Logs out the session of `accessToken` on Keygate (POST /api/v1/auth/logout). */
export async function logout(k: Keygate, accessToken: string) {
  const res = await fetch(`${k.base}/api/v1/auth/logout`, {
    method: 'POST',
    headers: { authorization: `Bearer ${accessToken}` },
  })
  if (res.status !== 204) throw new Error(`logout answered ${res.status}`)
}

/** What Keygate itself answers on a protected route for this Authorization header. */
export async function keygateAnswer(k: Keygate, authorization?: string) {
  const res = await fetch(`${k.base}/api/v1/users/me`, {
    headers: authorization === undefined ? {} : { authorization },
  })
  return answerOf(res)
}

export async function answerOf(res: Response) {
  return {
    status: res.status,
    body: await res.json(),
    wwwAuthenticate: res.headers.get('www-authenticate'),
  }
}

/** A compact JWS with any header and payload and a junk signature. */
export function unsignedToken(header: object, payload: object, signature = ''): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
  return `${part(header)}.${part(payload)}.${signature}`
}
