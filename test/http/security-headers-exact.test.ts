import { describe, expect, it } from 'vitest'
import { buildTestApp } from '../helpers/app.js'

// Every JSON answer: OWASP's REST Security Cheat Sheet set, exactly.
const API = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'cross-origin-resource-policy': 'same-origin',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
}

// Keygate's own pages (http/pages): nothing inline, nothing framed, nothing cached.
const HOSTED = {
  ...API,
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'cross-origin-opener-policy': 'same-origin',
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
}

// /docs: helmet's defaults, exactly, minus upgrade-insecure-requests.
const PAGE = {
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

describe('security headers, exact values', () => {
  it('API answers carry the REST set: success, 401, 404', async () => {
    const { app } = await buildTestApp()
    for (const url of ['/healthz', '/api/v1/users/me', '/no-such-page', '/openapi.json']) {
      const res = await app.inject({ method: 'GET', url })
      expect(res.headers, url).toMatchObject(API)
      expect(res.headers['x-powered-by']).toBeUndefined()
    }
  })

  it('hosted pages carry their own strict set', async () => {
    const { app } = await buildTestApp()
    for (const url of ['/reset-password', '/signin']) {
      const res = await app.inject({ method: 'GET', url })
      expect(res.statusCode, url).toBe(200)
      expect(res.headers, url).toMatchObject(HOSTED)
    }
  })

  it('leave /docs its own, looser CSP for Swagger UI', async () => {
    const { app } = await buildTestApp()
    for (const url of ['/docs', '/docs/static/swagger-ui.css']) {
      const res = await app.inject({ method: 'GET', url })
      expect(res.statusCode, url).toBe(200)
      expect(res.headers['content-security-policy'], url).toContain('validator.swagger.io')
      const { 'content-security-policy': _, ...rest } = PAGE
      expect(res.headers, url).toMatchObject(rest)
    }
  })
})
