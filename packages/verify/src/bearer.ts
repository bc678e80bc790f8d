import { notAuthenticated } from './errors.js'

/** What `verifyRequest` reads: a Node `IncomingMessage`, or a Fetch API `Request`. */
export type RequestLike =
  | { headers: Record<string, string | string[] | undefined> }
  | { headers: { get(name: string): string | null } }

function authorizationOf(req: RequestLike): string | undefined {
  const { headers } = req
  if (typeof headers.get === 'function') return headers.get('authorization') ?? undefined
  const value = (headers as Record<string, string | string[] | undefined>).authorization
  return Array.isArray(value) ? value[0] : value
}

/**
 * The token of an `Authorization: Bearer …` header. No header, or another scheme (matched
 * case-insensitively, RFC 7235 §2.1), is "Not authenticated"; `Bearer` with nothing after
 * it is a token that fails verification, as on Keygate's own routes.
 */
export function bearerToken(req: RequestLike): string {
  const header = authorizationOf(req)
  const match = header ? /^bearer(?:\s+(.*))?$/is.exec(header.trim()) : null
  if (!match) throw notAuthenticated()
  return match[1]?.trim() ?? ''
}
