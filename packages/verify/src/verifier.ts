import { decodeProtectedHeader, type JWTPayload, type ProtectedHeaderParameters } from 'jose'
import { bearerToken, type RequestLike } from './bearer.js'
import { discover, type Fetch, type IssuerMetadata } from './discovery.js'
import { invalidToken } from './errors.js'
import { createRevocationFeed, type FeedOptions, type RevocationFeed } from './feed.js'
import { createIntrospector } from './introspection.js'
import { createLocalVerifier } from './local.js'
import { requireScope, type ScopeRequirement } from './scope.js'

export interface VerifierOptions {
  /** Keygate's `JWT_ISSUER` (default its `PUBLIC_URL`), exactly as in its metadata */
  issuer: string
  /** Keygate's `JWT_AUDIENCE` (default `keygate`) */
  audience: string
  /** Keygate's `INTROSPECTION_SECRET`: needed with HS256, and for `introspect: 'always'` */
  introspectionSecret?: string
  /**
   * `auto` (default): tokens signed with a published key are verified locally; others
   * (HS256) are introspected when a secret is given. `always`: every token is also
   * introspected, so a logged-out token is refused at once, at one request per call.
   */
  introspect?: 'auto' | 'always'
  /** allowed clock skew for `exp`/`nbf`, 0–30 seconds (default 30) */
  clockToleranceSeconds?: number
  /** timeout of each request to Keygate (default 5000 ms) */
  timeoutMs?: number
  /** fetch implementation (default: the global one) */
  fetch?: Fetch
  /**
   * The revocation feed (SPEC §11), followed by default when `introspectionSecret` is
   * given: a logged-out session or deleted user is refused within about a second, and
   * every token is refused (503) after `failClosedAfterSeconds` without a successful sync.
   * `false` turns it off (tokens then stay valid until `exp` after a logout).
   */
  feed?: FeedOptions | false
}

export interface VerifyOptions {
  /** scope(s) the token must carry, else 403 `insufficient_scope` */
  scope?: ScopeRequirement
}

/** What a verified token says about the caller. */
export interface VerifiedToken {
  /** the user's id (a client's id for a client-credentials token) */
  sub: string
  /** Keygate session id; absent on tokens that belong to no session */
  sid: string | undefined
  client_id: string
  /** granted scopes, space-separated ('' when the token carries none) */
  scope: string
  /** every claim of the token (or of the introspection answer) */
  claims: JWTPayload
}

export interface Verifier {
  /** Verifies a bearer token; throws `VerifyError` (401/403/503). */
  verify(token: string, options?: VerifyOptions): Promise<VerifiedToken>
  /** Reads `Authorization: Bearer …` from a Node or Fetch request, then `verify`. */
  verifyRequest(req: RequestLike, options?: VerifyOptions): Promise<VerifiedToken>
  /** Stops background work (the feed); safe to call twice. */
  close(): Promise<void>
}

// A token can never choose its own verification key (RFC 8725 §3.10).
const EMBEDDED_KEY_HEADERS = ['jwk', 'jku', 'x5u', 'x5c'] as const
// Keygate's tokens are a few hundred bytes; refuse absurd input before parsing it.
const MAX_TOKEN_LENGTH = 16_384

function checkOptions(o: VerifierOptions): number {
  if (!URL.canParse(o.issuer)) throw new TypeError('@keygate/verify: issuer must be a URL')
  if (!o.audience) throw new TypeError('@keygate/verify: audience is required')
  const skew = o.clockToleranceSeconds ?? 30
  // SPEC §11: clock skew of at most 30 s; more would stretch every token's life.
  if (!Number.isInteger(skew) || skew < 0 || skew > 30) {
    throw new TypeError('@keygate/verify: clockToleranceSeconds must be an integer from 0 to 30')
  }
  if (o.introspect === 'always' && !o.introspectionSecret) {
    throw new TypeError("@keygate/verify: introspect: 'always' needs introspectionSecret")
  }
  return skew
}

// A metadata member naming the feed wins; Keygate serves it beside introspection.
function feedUrl(metadata: IssuerMetadata): string {
  const named = metadata.keygate_revocation_feed_endpoint
  if (typeof named === 'string' && URL.canParse(named)) return named
  return String(metadata.introspection_endpoint).replace(/\/introspect$/, '/revocations')
}

/** A start-up step: its failure says what could not be done, not "Service unavailable". */
async function startup<T>(what: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step()
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('@keygate/verify:')) throw err
    const reason = err instanceof Error ? ((err.cause as Error)?.message ?? err.message) : err
    throw new Error(`@keygate/verify: could not fetch ${what} (${reason})`, { cause: err })
  }
}

/** Discovers the issuer's metadata and keys, and returns a verifier for its access tokens. */
export async function createVerifier(options: VerifierOptions): Promise<Verifier> {
  const clockToleranceSeconds = checkOptions(options)
  const { issuer, audience } = options
  const fetchImpl = options.fetch ?? globalThis.fetch
  const timeoutMs = options.timeoutMs ?? 5000
  const metadata = await startup(`metadata of ${issuer}`, () =>
    discover(issuer, fetchImpl, timeoutMs),
  )
  const common = { issuer, audience, clockToleranceSeconds, fetch: fetchImpl, timeoutMs }

  // Keygate names its access-token algorithm; under HS256 the JWKS holds only ID-token keys.
  const local = metadata.jwks_uri
    ? createLocalVerifier({
        ...common,
        jwksUri: metadata.jwks_uri,
        accessTokenAlgs: accessTokenAlgs(metadata),
      })
    : undefined
  const localAlgs =
    (await startup(`keys at ${metadata.jwks_uri}`, async () => local?.load())) ?? new Set<string>()

  let introspector: ReturnType<typeof createIntrospector> | undefined
  if (options.introspectionSecret) {
    if (!metadata.introspection_endpoint) {
      throw new Error(`@keygate/verify: ${issuer} publishes no introspection_endpoint`)
    }
    introspector = createIntrospector({
      ...common,
      endpoint: metadata.introspection_endpoint,
      secret: options.introspectionSecret,
    })
    await introspector.probe().catch((err: Error) => {
      throw new Error(
        `@keygate/verify: introspection at ${metadata.introspection_endpoint} failed (${err.cause instanceof Error ? err.cause.message : err.message}); is introspectionSecret Keygate's INTROSPECTION_SECRET?`,
        { cause: err },
      )
    })
  }
  if (localAlgs.size === 0 && !introspector) {
    throw new Error(
      `@keygate/verify: ${issuer} publishes no asymmetric signing key (JWT_ALGORITHM=HS256?): use EdDSA/ES256/RS256, or pass introspectionSecret`,
    )
  }

  let feed: RevocationFeed | undefined
  const feedOptions = options.feed ?? (options.introspectionSecret ? {} : false)
  if (feedOptions) {
    if (!options.introspectionSecret) {
      throw new TypeError('@keygate/verify: the revocation feed needs introspectionSecret')
    }
    feed = createRevocationFeed({
      ...feedOptions,
      url: feedUrl(metadata),
      secret: options.introspectionSecret,
      fetch: fetchImpl,
      timeoutMs,
    })
    await feed.start()
  }

  async function check(token: string): Promise<JWTPayload> {
    if (!token || token.length > MAX_TOKEN_LENGTH) throw invalidToken()
    let header: ProtectedHeaderParameters
    try {
      header = decodeProtectedHeader(token)
    } catch (err) {
      throw invalidToken(err)
    }
    if (EMBEDDED_KEY_HEADERS.some((h) => h in header) || header.alg === 'none') throw invalidToken()
    if (local?.accepts(header.alg)) {
      const claims = await local.verify(token, header.alg!)
      // Locally valid; introspection adds "and its session is still live".
      if (options.introspect === 'always') await introspector!.verify(token)
      return claims
    }
    // HS256 (or another alg without a published key) can only be checked by Keygate itself.
    if (introspector) return introspector.verify(token)
    throw invalidToken()
  }

  async function verify(token: string, opts: VerifyOptions = {}): Promise<VerifiedToken> {
    const claims = await check(token)
    const { sub, sid, client_id, scope } = claims as Record<string, unknown>
    if (typeof sub !== 'string' || (sid !== undefined && typeof sid !== 'string')) {
      throw invalidToken()
    }
    feed?.check({ sub, sid, iat: claims.iat, jti: claims.jti })
    const granted = typeof scope === 'string' ? scope : ''
    requireScope(granted, opts.scope)
    return {
      sub,
      sid,
      client_id: typeof client_id === 'string' ? client_id : '',
      scope: granted,
      claims,
    }
  }

  return {
    verify,
    verifyRequest: async (req, opts) => verify(bearerToken(req), opts),
    close: async () => feed?.close(),
  }
}

/** `access_token_signing_alg_values_supported` when the issuer publishes it (a Keygate extension). */
function accessTokenAlgs(metadata: IssuerMetadata): string[] | undefined {
  const algs = metadata.access_token_signing_alg_values_supported
  return Array.isArray(algs) && algs.every((a) => typeof a === 'string') ? algs : undefined
}
