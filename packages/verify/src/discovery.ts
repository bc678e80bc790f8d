import { unavailable } from './errors.js'

/** The RFC 8414 metadata members this package reads. */
export interface IssuerMetadata {
  issuer: string
  jwks_uri?: string
  introspection_endpoint?: string
  [member: string]: unknown
}

export type Fetch = typeof fetch

const WELL_KNOWN = '/.well-known/oauth-authorization-server'

/**
 * RFC 8414 §3.1: for an issuer with a path the well-known segment goes between host and
 * path; Keygate behind a path prefix serves it under its own root, so that form is tried
 * second. Identical for an issuer that is just an origin.
 */
export function metadataUrls(issuer: string): string[] {
  const url = new URL(issuer)
  const path = url.pathname.replace(/\/$/, '')
  const inserted = `${url.origin}${WELL_KNOWN}${path}`
  const appended = `${url.origin}${path}${WELL_KNOWN}`
  return inserted === appended ? [inserted] : [inserted, appended]
}

/** Fetches the issuer's metadata and checks that it names exactly this issuer (RFC 8414 §3.3). */
export async function discover(
  issuer: string,
  fetchImpl: Fetch,
  timeoutMs: number,
): Promise<IssuerMetadata> {
  let last = ''
  for (const url of metadataUrls(issuer)) {
    const res = await fetchImpl(url, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(timeoutMs),
    })
    if (res.status === 404) {
      last = `${url}: 404`
      await res.body?.cancel()
      continue
    }
    if (!res.ok) throw new Error(`@keygate/verify: ${url} answered ${res.status}`)
    const metadata = (await res.json()) as IssuerMetadata
    // A mismatch means a misconfiguration or an impersonation: never trust its keys.
    if (metadata?.issuer !== issuer) {
      throw new Error(
        `@keygate/verify: ${url} names issuer ${JSON.stringify(metadata?.issuer)}, not ${JSON.stringify(issuer)} (RFC 8414 §3.3: they must be equal)`,
      )
    }
    for (const member of ['jwks_uri', 'introspection_endpoint'] as const) {
      const value = metadata[member]
      if (value !== undefined && (typeof value !== 'string' || !URL.canParse(value))) {
        throw new Error(`@keygate/verify: ${url}: ${member} is not a URL`)
      }
    }
    return metadata
  }
  throw new Error(`@keygate/verify: no authorization server metadata for ${issuer} (${last})`)
}

/** A POST of an HTML form; network failures and timeouts become a 503 refusal. */
export async function postForm(
  fetchImpl: Fetch,
  url: string,
  bearer: string,
  form: Record<string, string>,
  timeoutMs: number,
): Promise<Response> {
  try {
    return await fetchImpl(url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${bearer}`,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: new URLSearchParams(form).toString(),
      signal: AbortSignal.timeout(timeoutMs),
    })
  } catch (err) {
    throw unavailable(err)
  }
}
