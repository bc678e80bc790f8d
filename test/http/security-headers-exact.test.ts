import { describe, expect, it } from 'vitest'
import { buildTestApp } from '../helpers/app.js'

// The exact headers helmet produced through @fastify/helmet before it was
// replaced by one middleware built at start-up: nothing may change or go missing.
const EXPECTED = {
  'content-security-policy':
    "default-src 'self';base-uri 'self';font-src 'self' https: data:;form-action 'self';frame-ancestors 'self';img-src 'self' data:;object-src 'none';script-src 'self';script-src-attr 'none';style-src 'self' https: 'unsafe-inline'",
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'SAMEORIGIN',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
}

describe('security headers, exact values (helmet built once)', () => {
  it('are on every response: success, 401, 404', async () => {
    const { app } = await buildTestApp()
    for (const url of ['/healthz', '/api/v1/users/me', '/no-such-page']) {
      const res = await app.inject({ method: 'GET', url })
      expect(res.headers, url).toMatchObject(EXPECTED)
      expect(res.headers['x-powered-by']).toBeUndefined()
    }
  })

  it('leave /docs its own, looser CSP for Swagger UI', async () => {
    const { app } = await buildTestApp()
    const res = await app.inject({ method: 'GET', url: '/docs' })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-security-policy']).toContain('validator.swagger.io')
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN')
  })
})
