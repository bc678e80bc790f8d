import type { IssueName } from '../../errors.js'

/**
 * `http` on a loopback IP literal (RFC 8252 §7.3), split into host and what
 * follows the port. Matched on the raw string, because redirect URIs are
 * compared as strings (RFC 9700 §4.1.3), never after URL normalisation.
 */
const LOOPBACK = /^http:\/\/(127\.0\.0\.1|\[::1\])(?::(\d{1,5}))?([/?].*)?$/s

function loopbackParts(uri: string): { host: string; rest: string } | undefined {
  const m = LOOPBACK.exec(uri)
  if (!m) return undefined
  const port = m[2]
  if (port !== undefined && (Number(port) > 65535 || Number(port) === 0)) return undefined
  return { host: m[1] as string, rest: m[3] ?? '' }
}

// Schemes that would run or read something instead of reaching an app.
const REFUSED_SCHEMES = new Set([
  'javascript:',
  'data:',
  'vbscript:',
  'file:',
  'blob:',
  'about:',
  'filesystem:',
])

const MAX_LENGTH = 2000

const hasSpaceOrControl = (s: string): boolean =>
  [...s].some((ch) => {
    const code = ch.codePointAt(0) ?? 0
    return code <= 0x20 || code === 0x7f || /\s/u.test(ch)
  })

/**
 * Why a redirect URI cannot be registered, or undefined when it can (SPEC §6):
 * an absolute URI without a fragment or wildcard; `https`; `http` only on
 * 127.0.0.1 or [::1] (where any port will match); or a native app's custom scheme.
 */
export function redirectUriProblem(uri: string): IssueName | undefined {
  // Whitespace and control characters would be normalised away by URL parsers.
  if (uri.length > MAX_LENGTH || hasSpaceOrControl(uri)) return 'redirectUriInvalid'
  if (uri.includes('#')) return 'redirectUriFragment'
  if (uri.includes('*')) return 'redirectUriWildcard'
  let url: URL
  try {
    url = new URL(uri)
  } catch {
    return 'redirectUriInvalid'
  }
  if (!uri.toLowerCase().startsWith(url.protocol)) return 'redirectUriInvalid'
  if (url.username !== '' || url.password !== '') return 'redirectUriUserinfo'
  if (url.protocol === 'http:') return loopbackParts(uri) ? undefined : 'redirectUriHttp'
  if (url.protocol === 'https:') {
    // Lower-case scheme only: a registered string is matched exactly.
    return uri.startsWith('https://') && url.hostname !== '' ? undefined : 'redirectUriInvalid'
  }
  if (REFUSED_SCHEMES.has(url.protocol)) return 'redirectUriScheme'
  return undefined
}

/**
 * Whether `presented` is one of the client's `registered` redirect URIs:
 * exact string comparison (RFC 9700 §4.1.3), except that for `http` on a
 * loopback IP literal the port is ignored (RFC 8252 §7.3), since a native app
 * listens on whatever port the OS gives it. Host, path and query still match exactly.
 */
export function redirectUriMatches(registered: string[], presented: string): boolean {
  if (registered.includes(presented)) return true
  const p = loopbackParts(presented)
  if (!p) return false
  return registered.some((r) => {
    const q = loopbackParts(r)
    return q !== undefined && q.host === p.host && q.rest === p.rest
  })
}
