import { describe, expect, it } from 'vitest'
import { buildTestApp } from '../helpers/app.js'

describe('GET /assets/passkeys.js', () => {
  it('serves the bundled passkeys script, revalidated by ETag', async () => {
    const { app } = await buildTestApp()
    const res = await app.inject({ method: 'GET', url: '/assets/passkeys.js' })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8')
    expect(res.headers['cache-control']).toBe('no-cache')
    expect(res.headers['x-content-type-options']).toBe('nosniff')
    // @simplewebauthn/browser is inside: one self-contained file, no module imports.
    expect(res.body).toContain('navigator.credentials.create')
    expect(res.body).toContain('data-passkey')
    expect(res.body).not.toMatch(/^\s*import\s/m)
    const etag = String(res.headers.etag)
    const again = await app.inject({
      method: 'GET',
      url: '/assets/passkeys.js',
      headers: { 'if-none-match': etag },
    })
    expect(again.statusCode).toBe(304)
    expect(again.body).toBe('')
  })
})
