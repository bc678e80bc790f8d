// examples/fastapi-resource-server run for real: uvicorn serving the example, which trusts a
// real Keygate (EdDSA) through its JWKS. Debian's python3-fastapi, python3-jwt and
// python3-uvicorn, under /usr/bin/python3 (not a pyenv one); nothing is installed here.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import net from 'node:net'
import { fileURLToPath } from 'node:url'
import { importJWK, SignJWT } from 'jose'
import { describe, expect, it, onTestFinished } from 'vitest'
import { keyFilePath, readKeyFile } from '../../src/services/keys/key-files.js'
import { createUser, loginAs, strongPassword } from '../helpers/factories.js'
import { listeningApp, tempDataDir } from '../helpers/server.js'

const PYTHON = '/usr/bin/python3'
const EXAMPLE = fileURLToPath(new URL('../../examples/fastapi-resource-server', import.meta.url))
const probe = spawnSync(PYTHON, ['-c', 'import fastapi, jwt, uvicorn'], { encoding: 'utf8' })
const missing =
  probe.status === 0
    ? ''
    : ` (SKIPPED: ${PYTHON} -c "import fastapi, jwt, uvicorn" failed; apt-get install python3-fastapi python3-jwt python3-uvicorn)`
if (missing) console.warn(`test/e2e/fastapi-example.test.ts${missing}`)

async function freePort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as net.AddressInfo
  await new Promise((r) => server.close(r))
  return port
}

/** uvicorn serving the example; resolves once it answers. */
async function startExample(issuer: string, env: Record<string, string> = {}): Promise<string> {
  const port = await freePort()
  const child: ChildProcess = spawn(
    PYTHON,
    ['-m', 'uvicorn', 'app:app', '--host', '127.0.0.1', '--port', String(port)],
    {
      cwd: EXAMPLE,
      env: {
        PATH: process.env.PATH,
        KEYGATE_ISSUER: issuer,
        PYTHONDONTWRITEBYTECODE: '1',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let output = ''
  child.stdout!.on('data', (d) => (output += d))
  child.stderr!.on('data', (d) => (output += d))
  onTestFinished(() => {
    child.kill('SIGTERM')
  })
  const base = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 20_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the example exited:\n${output}`)
    const up = await fetch(`${base}/me`).then(
      () => true,
      () => false,
    )
    if (up) return base
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`the example did not start in 20 s:\n${output}`)
}

const answer = async (res: Response) => ({
  status: res.status,
  body: (await res.json()) as Record<string, unknown>,
  wwwAuthenticate: res.headers.get('www-authenticate'),
})

describe.skipIf(probe.status !== 0)(`FastAPI example against a real Keygate${missing}`, () => {
  it('accepts Keygate’s tokens and refuses forged, expired and foreign ones as Keygate does', async () => {
    const k = await listeningApp({ jwtAlgorithm: 'EdDSA', dataDir: tempDataDir() })
    const base = await startExample(k.base)
    const me = (authorization?: string) =>
      fetch(`${base}/me`, { headers: authorization ? { authorization } : {} }).then(answer)
    const keygate = (authorization?: string) =>
      fetch(`${k.base}/api/v1/users/me`, {
        headers: authorization ? { authorization } : {},
      }).then(answer)

    const user = await createUser(k.app)
    const { access_token } = (await loginAs(k.app, user)).tokens
    const ok = await me(`Bearer ${access_token}`)
    expect(ok.status).toBe(200)
    expect(ok.body).toMatchObject({
      sub: user.id,
      client_id: 'keygate',
      // A user's password-grant token: every scope but admin (SPEC §6).
      scope: 'openid profile email offline_access posts:write account',
    })
    expect(ok.body.sid).toMatch(/^[0-9a-f-]{36}$/)

    // Tokens signed with Keygate's own key but wrong in one way each.
    const stored = await readKeyFile(keyFilePath(k.config), 'EdDSA')
    const signer = stored.find((key) => !key.pending)!
    const key = await importJWK(signer, 'EdDSA')
    const now = Math.floor(Date.now() / 1000)
    const sign = (claims: Record<string, unknown>, typ = 'at+jwt') =>
      new SignJWT({
        sub: user.id,
        client_id: 'keygate',
        iss: k.base,
        aud: 'keygate',
        iat: now,
        exp: now + 600,
        jti: 'j',
        ...claims,
      })
        .setProtectedHeader({ alg: 'EdDSA', typ, kid: signer.kid })
        .sign(key)
    expect((await me(`Bearer ${await sign({})}`)).status).toBe(200) // the control
    const [h, p, s] = access_token.split('.') as [string, string, string]
    const tampered = `${h}.${p}.${s.slice(0, 5)}${s[5] === 'A' ? 'B' : 'A'}${s.slice(6)}`
    const refused = [
      tampered,
      await sign({ iat: now - 700, exp: now - 31 }), // expired beyond the 30 s leeway
      await sign({ aud: 'billing' }),
      await sign({ iss: 'http://evil.example' }),
      await sign({}, 'JWT'),
      `${Buffer.from('{"alg":"none","typ":"at+jwt"}').toString('base64url')}.${p}.`,
      'garbage',
    ]
    for (const token of refused) {
      const got = await me(`Bearer ${token}`)
      expect(got).toEqual({
        status: 401,
        body: { detail: 'Could not validate credentials' },
        wwwAuthenticate: 'Bearer realm="keygate", error="invalid_token"',
      })
    }
    expect(await me(`Bearer ${tampered}`)).toEqual(await keygate(`Bearer ${tampered}`))
    for (const header of [undefined, `Basic ${access_token}`]) {
      expect(await me(header)).toEqual(await keygate(header))
      expect((await me(header)).body).toEqual({ detail: 'Not authenticated' })
    }

    const post = (token: string) =>
      fetch(`${base}/posts`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })
    expect((await post(access_token)).status).toBe(200)
    expect(await answer(await post(await sign({ scope: 'openid email' })))).toEqual({
      status: 403,
      body: { detail: 'Not enough permissions' },
      wwwAuthenticate: 'Bearer realm="keygate", error="insufficient_scope", scope="posts:write"',
    })
    expect((await post(await sign({ scope: 'posts:write' }))).status).toBe(200)
  })
  it('follows the revocation feed with the introspection secret: a logout is refused within a second', async () => {
    const secret = 'introspection-secret-of-at-least-32-bytes!'
    const k = await listeningApp({
      jwtAlgorithm: 'EdDSA',
      dataDir: tempDataDir(),
      introspectionSecret: secret,
    })
    const user = await createUser(k.app)
    // A revocation made before the example starts is applied when it catches up.
    const early = (await loginAs(k.app, user)).tokens.access_token
    await fetch(`${k.base}/api/v1/auth/logout`, {
      method: 'POST',
      headers: { authorization: `Bearer ${early}` },
    })
    const base = await startExample(k.base, { KEYGATE_INTROSPECTION_SECRET: secret })
    const me = (token: string) =>
      fetch(`${base}/me`, { headers: { authorization: `Bearer ${token}` } }).then(answer)
    expect((await me(early)).status).toBe(401)

    for (let i = 0; i < 3; i++) {
      const { access_token } = (await loginAs(k.app, user)).tokens
      expect((await me(access_token)).status).toBe(200)
      const started = performance.now()
      const out = await fetch(`${k.base}/api/v1/auth/logout`, {
        method: 'POST',
        headers: { authorization: `Bearer ${access_token}` },
      })
      expect(out.status).toBe(204)
      let refused = await me(access_token)
      while (refused.status === 200 && performance.now() - started < 5000) {
        await new Promise((r) => setTimeout(r, 20))
        refused = await me(access_token)
      }
      expect(refused).toEqual({
        status: 401,
        body: { detail: 'Could not validate credentials' },
        wwwAuthenticate: 'Bearer realm="keygate", error="invalid_token"',
      })
      expect(performance.now() - started).toBeLessThan(1000)
    }

    // A password change keeps the changing token, and only it, in its session.
    const session = (await loginAs(k.app, user)).tokens
    const refreshed = await fetch(`${k.base}/api/v1/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: session.refresh_token }),
    }).then((r) => r.json() as Promise<{ access_token: string }>)
    expect((await me(session.access_token)).status).toBe(200)
    const changed = await fetch(`${k.base}/api/v1/users/me/password`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${refreshed.access_token}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ current_password: user.password, new_password: strongPassword() }),
    })
    expect(changed.status).toBeLessThan(300)
    const started = performance.now()
    while ((await me(session.access_token)).status === 200 && performance.now() - started < 5000) {
      await new Promise((r) => setTimeout(r, 20))
    }
    expect((await me(session.access_token)).status).toBe(401)
    expect((await me(refreshed.access_token)).status).toBe(200)
  })
})
