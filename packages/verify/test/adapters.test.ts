import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import express from 'express'
import Fastify from 'fastify'
import { describe, expect, it, onTestFinished } from 'vitest'
import { keygateMiddleware } from '../src/express.js'
import { keygateAuth, keygateVerify } from '../src/fastify.js'
import { createVerifier, sendVerifyError, VerifyError } from '../src/index.js'
import { answerOf, type Keygate, keygateAnswer, startKeygate } from './helpers.js'

/** Starts a server on a free port, closed after the test; returns its base URL. */
async function serve(server: ReturnType<typeof createServer>): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  onTestFinished(() => new Promise<void>((r) => server.close(() => r())))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

const get = (url: string, authorization?: string) =>
  fetch(url, { headers: authorization === undefined ? {} : { authorization } })

/**
 * The answers every adapter must give, checked against Keygate's own answer for the same
 * Authorization header: valid → 200 with the caller; missing, malformed, forged → 401;
 * a scope it lacks → 403 with the challenge naming it.
 */
async function checkAdapter(k: Keygate, open: string, scoped: string) {
  const { user, access_token } = await k.login()
  const ok = await get(open, `Bearer ${access_token}`)
  expect(ok.status).toBe(200)
  expect(await ok.json()).toEqual({ sub: user.id, client_id: 'keygate' })

  for (const header of [undefined, `Basic ${access_token}`, 'Bearer', `Bearer ${access_token}x`]) {
    const res = await get(open, header)
    expect(res.headers.get('content-type')).toMatch(/^application\/json/)
    expect(await answerOf(res)).toEqual(await keygateAnswer(k, header))
  }
  // A password-grant token holds every scope a user may (SPEC §6), posts:write included.
  expect((await get(scoped, `Bearer ${access_token}`)).status).toBe(200)
  const reader = await k.sign({ sub: user.id, scope: 'openid email' })
  const denied = await answerOf(await get(scoped, `Bearer ${reader}`))
  expect(denied).toEqual({
    status: 403,
    body: { detail: 'Not enough permissions' },
    wwwAuthenticate: 'Bearer realm="keygate", error="insufficient_scope", scope="posts:write"',
  })
  const writer = await k.sign({ sub: user.id, scope: 'posts:write' })
  expect((await get(scoped, `Bearer ${writer}`)).status).toBe(200)
}

describe('adapters answer exactly as Keygate does', () => {
  it('Fastify: the plugin protects its scope, keygateAuth one route', async () => {
    const k = await startKeygate('EdDSA')
    const verifier = await createVerifier({ issuer: k.base, audience: 'keygate' })
    const app = Fastify()
    onTestFinished(() => app.close())
    app.get('/public', async () => ({ ok: true }))
    app.register(async (scope) => {
      await scope.register(keygateVerify, { verifier })
      scope.get('/me', async (request) => ({
        sub: request.keygate?.sub,
        client_id: request.keygate?.client_id,
      }))
    })
    app.get(
      '/posts',
      { onRequest: keygateAuth(verifier, { scope: 'posts:write' }) },
      async () => ({}),
    )
    app.register(async (admin) => {
      await admin.register(keygateVerify, { verifier, scope: 'admin' })
      admin.get('/admin', async () => ({}))
    })
    const base = await app.listen({ port: 0, host: '127.0.0.1' })
    await checkAdapter(k, `${base}/me`, `${base}/posts`)
    // Outside the protected scope nothing is asked.
    expect((await get(`${base}/public`)).status).toBe(200)
    const admin = await get(`${base}/admin`, `Bearer ${(await k.login()).access_token}`)
    expect(admin.status).toBe(403)
    expect(admin.headers.get('www-authenticate')).toBe(
      'Bearer realm="keygate", error="insufficient_scope", scope="admin"',
    )
  })

  it('Express: the middleware sets req.keygate or answers the refusal', async () => {
    const k = await startKeygate('ES256')
    const verifier = await createVerifier({ issuer: k.base, audience: 'keygate' })
    const app = express()
    app.get('/me', keygateMiddleware(verifier), (req, res) => {
      const { sub, client_id } = req.keygate!
      res.json({ sub, client_id })
    })
    app.get('/posts', keygateMiddleware(verifier, { scope: 'posts:write' }), (_req, res) => {
      res.json({})
    })
    app.get('/locals', keygateMiddleware(verifier), (_req, res) => {
      res.json({ sub: res.locals.keygate.sub })
    })
    const base = await serve(createServer(app))
    const { user, access_token } = await k.login()
    const locals = await get(`${base}/locals`, `Bearer ${access_token}`)
    expect(await locals.json()).toEqual({ sub: user.id })
    await checkAdapter(k, `${base}/me`, `${base}/posts`)
  })

  it('plain node:http with verifyRequest and sendVerifyError', async () => {
    const k = await startKeygate('EdDSA')
    const verifier = await createVerifier({ issuer: k.base, audience: 'keygate' })
    const route = (scope?: string) =>
      createServer(async (req, res) => {
        try {
          const { sub, client_id } = await verifier.verifyRequest(req, { scope })
          res.setHeader('content-type', 'application/json')
          res.end(JSON.stringify({ sub, client_id }))
        } catch (err) {
          if (err instanceof VerifyError) return sendVerifyError(res, err)
          res.statusCode = 500
          res.end()
        }
      })
    await checkAdapter(k, await serve(route()), await serve(route('posts:write')))
  })
})
