import type { FastifyRequest } from 'fastify'
import type { ClientContext } from '../domain/session.js'

const formDecode = (s: string) => {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '))
  } catch {
    return undefined
  }
}

/** The client_id and secret of an RFC 6749 §2.3.1 Basic header (form-urlencoded, then base64). */
export function basicCredentials(
  header: string | undefined,
): { clientId?: string; secret?: string } | undefined {
  const match = header ? /^basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null
  if (!match?.[1]) return undefined
  const decoded = Buffer.from(match[1], 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  return {
    clientId: formDecode(colon < 0 ? decoded : decoded.slice(0, colon)),
    secret: colon < 0 ? undefined : formDecode(decoded.slice(colon + 1)),
  }
}

/**
 * The client_id of a Basic header. Keygate's clients are public: the secret is
 * ignored, and Swagger UI's empty `Basic Og==` means "no client".
 */
function basicClientId(header: string | undefined): string | undefined {
  return basicCredentials(header)?.clientId || undefined
}

/** Who is calling: client id (form field or Basic header), user agent, address. */
export function clientContext(request: FastifyRequest, formClientId?: string): ClientContext {
  return {
    clientId: (formClientId ?? basicClientId(request.headers.authorization))?.slice(0, 255),
    userAgent: request.headers['user-agent'],
    ip: request.ip,
  }
}
