import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it, onTestFinished } from 'vitest'
import { hasChromium, launchChromium } from '../helpers/browser.js'
import { randomEmail, strongPassword } from '../helpers/factories.js'
import { listeningApp } from '../helpers/server.js'

/** A second origin: a plain server whose one page is where the browser's script runs. */
async function otherOrigin(): Promise<string> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>app</title>')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** What a single-page app on another origin does: sign up, log in, then every write verb. */
async function crud(api: string, email: string, password: string) {
  const json = { 'content-type': 'application/json' }
  const out: Record<string, number | string> = {}
  const signup = await fetch(`${api}/api/v1/auth/signup`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ email, password }),
  })
  out.signup = signup.status
  out.location = signup.headers.get('location') ?? 'not exposed'
  const token = await fetch(`${api}/api/v1/auth/token`, {
    method: 'POST',
    body: new URLSearchParams({ username: email, password }),
  })
  out.token = token.status
  const auth = {
    ...json,
    authorization: `Bearer ${((await token.json()) as { access_token: string }).access_token}`,
  }
  const created = await fetch(`${api}/api/v1/posts`, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({ title: 'from another origin' }),
  })
  out.create = created.status
  const id = ((await created.json()) as { id: string }).id
  const patched = await fetch(`${api}/api/v1/posts/${id}`, {
    method: 'PATCH',
    headers: auth,
    body: JSON.stringify({ title: 'edited' }),
  })
  out.patch = patched.status
  out.title = ((await patched.json()) as { title: string }).title
  const bearer = { authorization: auth.authorization }
  out.delete = (
    await fetch(`${api}/api/v1/posts/${id}`, { method: 'DELETE', headers: bearer })
  ).status
  const me = await fetch(`${api}/api/v1/users/me`, { method: 'DELETE', headers: auth, body: '{}' })
  out.deleteMe = me.status
  return out
}

describe.skipIf(!hasChromium)('CORS from a second origin, in Chromium', () => {
  it('an allowed origin can POST, PATCH and DELETE; another origin is refused', async () => {
    const appOrigin = await otherOrigin()
    const strangerOrigin = await otherOrigin()
    const { base } = await listeningApp({ corsOrigins: [appOrigin] })

    const browser = await launchChromium()
    const page = await browser.newPage()
    await page.goto(appOrigin)
    const [email, password] = [randomEmail(), strongPassword()]
    const result = await page.evaluate(
      `(${crud.toString()})(${JSON.stringify(base)}, ${JSON.stringify(email)}, ${JSON.stringify(password)})`,
    )
    expect(result).toEqual({
      signup: 201,
      location: expect.stringMatching(/^\/api\/v1\/users\/[0-9a-f-]{36}$/),
      token: 200,
      create: 201,
      patch: 200,
      title: 'edited',
      delete: 204,
      // DELETE /users/me with a JSON body reaches the route (422: password missing).
      deleteMe: 422,
    })

    const stranger = await browser.newPage()
    await stranger.goto(strangerOrigin)
    const refused = await stranger.evaluate(
      `fetch(${JSON.stringify(`${base}/api/v1/posts`)}).then(() => 'read', (e) => e.name)`,
    )
    expect(refused).toBe('TypeError')
  })
})
