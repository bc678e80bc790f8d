import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { redirectUriMatches, redirectUriProblem } from '../../src/services/oauth/redirect-uris.js'

const segment = fc.stringMatching(/^[a-z0-9._~-]{1,12}$/)
const path = fc.array(segment, { maxLength: 4 }).map((s) => `/${s.join('/')}`)
const query = fc.option(
  fc.tuple(segment, segment).map(([k, v]) => `?${k}=${v}`),
  { nil: '' },
)
const port = fc.integer({ min: 1, max: 65535 })
const loopbackHost = fc.constantFrom('127.0.0.1', '[::1]')
const host = fc
  .array(fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/), { minLength: 1, maxLength: 3 })
  .map((labels) => `${labels.join('.')}.example.com`)
const httpsUri = fc
  .tuple(host, fc.option(port, { nil: undefined }), path, query)
  .map(([h, p, pa, q]) => `https://${h}${p ? `:${p}` : ''}${pa}${q}`)
const loopbackUri = fc
  .tuple(loopbackHost, fc.option(port, { nil: undefined }), path, query)
  .map(([h, p, pa, q]) => `http://${h}${p ? `:${p}` : ''}${pa}${q}`)

describe('redirectUriMatches', () => {
  it('a registered URI always matches itself', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(httpsUri, loopbackUri), { minLength: 1 }), (registered) =>
        registered.every((uri) => redirectUriMatches(registered, uri)),
      ),
    )
  })

  it('https is exact: any change to the string is no match', () => {
    fc.assert(
      fc.property(
        httpsUri,
        fc.constantFrom('/', 'x', '#', '?a=b', '.evil.com', '%2F', ':443'),
        (uri, extra) =>
          !redirectUriMatches([uri], uri + extra) && !redirectUriMatches([uri + extra], uri),
      ),
    )
    fc.assert(
      fc.property(
        httpsUri,
        (uri) => !redirectUriMatches([uri], uri.toUpperCase()) || uri === uri.toUpperCase(),
      ),
    )
  })

  it('loopback http: any port matches, host, path and query still exact (RFC 8252 §7.3)', () => {
    fc.assert(
      fc.property(
        loopbackHost,
        path,
        query,
        port,
        fc.option(port, { nil: undefined }),
        (h, pa, q, p, reg) => {
          const registered = `http://${h}${reg ? `:${reg}` : ''}${pa}${q}`
          return redirectUriMatches([registered], `http://${h}:${p}${pa}${q}`)
        },
      ),
    )
    fc.assert(
      fc.property(path, query, port, segment, (pa, q, p, s) => {
        const registered = `http://127.0.0.1${pa}${q}`
        return (
          !redirectUriMatches([registered], `http://[::1]:${p}${pa}${q}`) &&
          !redirectUriMatches([registered], `http://127.0.0.1:${p}${pa}/${s}${q}`) &&
          !redirectUriMatches([registered], `http://127.0.0.1:${p}${pa}${q}#${s}`) &&
          !redirectUriMatches([registered], `https://127.0.0.1:${p}${pa}${q}`)
        )
      }),
    )
  })

  it('no port trick reaches another host', () => {
    const registered = ['http://127.0.0.1/cb']
    for (const presented of [
      'http://127.0.0.1:80@evil.com/cb',
      'http://127.0.0.1.evil.com/cb',
      'http://127.0.0.1:99999/cb',
      'http://127.0.0.1:0/cb',
      'http://127.0.0.1:8080evil/cb',
      'http://localhost:8080/cb',
      'http://127.1:8080/cb',
    ]) {
      expect(redirectUriMatches(registered, presented), presented).toBe(false)
    }
    // An https registration never gains the port leniency.
    expect(redirectUriMatches(['https://127.0.0.1/cb'], 'https://127.0.0.1:8443/cb')).toBe(false)
  })

  it('nothing matches an empty registration', () => {
    fc.assert(fc.property(fc.string(), (s) => !redirectUriMatches([], s)))
  })
})

describe('redirectUriProblem', () => {
  it('accepts https, loopback http and custom schemes', () => {
    fc.assert(
      fc.property(fc.oneof(httpsUri, loopbackUri), (uri) => redirectUriProblem(uri) === undefined),
    )
    for (const uri of [
      'com.example.app:/oauth2redirect',
      'myapp://callback',
      'http://[::1]:8080/',
    ]) {
      expect(redirectUriProblem(uri), uri).toBeUndefined()
    }
  })

  it('refuses fragments, wildcards, http on any other host, and what is not a URI', () => {
    fc.assert(
      fc.property(fc.oneof(httpsUri, loopbackUri), segment, (uri, s) => {
        return (
          redirectUriProblem(`${uri}#${s}`) === 'redirectUriFragment' &&
          redirectUriProblem(`${uri}#`) === 'redirectUriFragment'
        )
      }),
    )
    fc.assert(
      fc.property(
        host,
        path,
        (h, pa) => redirectUriProblem(`http://${h}${pa}`) === 'redirectUriHttp',
      ),
    )
    const cases: [string, string][] = [
      ['https://*.example.com/cb', 'redirectUriWildcard'],
      ['https://app.example.com/*', 'redirectUriWildcard'],
      ['http://localhost/cb', 'redirectUriHttp'],
      ['http://localhost:3000/cb', 'redirectUriHttp'],
      ['http://127.1/cb', 'redirectUriHttp'],
      ['http://0x7f000001/cb', 'redirectUriHttp'],
      ['http://127.0.0.1.nip.io/cb', 'redirectUriHttp'],
      ['HTTP://127.0.0.1/cb', 'redirectUriHttp'],
      ['/relative', 'redirectUriInvalid'],
      ['https://', 'redirectUriInvalid'],
      ['https://a.example.com/ cb', 'redirectUriInvalid'],
      ['https://a.example.com/\tcb', 'redirectUriInvalid'],
      ['https://user:pw@a.example.com/cb', 'redirectUriUserinfo'],
      ['javascript:alert(1)', 'redirectUriScheme'],
      ['data:text/html,hi', 'redirectUriScheme'],
      ['file:///etc/passwd', 'redirectUriScheme'],
      [`https://a.example.com/${'x'.repeat(2000)}`, 'redirectUriInvalid'],
    ]
    for (const [uri, problem] of cases) expect(redirectUriProblem(uri), uri).toBe(problem)
  })

  it('never throws, whatever the string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (s) => {
        redirectUriProblem(s)
        redirectUriMatches([s], s)
        return true
      }),
    )
  })
})
