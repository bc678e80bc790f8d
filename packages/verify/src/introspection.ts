import type { JWTPayload } from 'jose'
import { type Fetch, postForm } from './discovery.js'
import { invalidToken, unavailable } from './errors.js'

export interface IntrospectorOptions {
  endpoint: string
  secret: string
  issuer: string
  audience: string
  clockToleranceSeconds: number
  fetch: Fetch
  timeoutMs: number
}

const audienceOf = (aud: unknown): string[] =>
  typeof aud === 'string'
    ? [aud]
    : Array.isArray(aud)
      ? aud.filter((a) => typeof a === 'string')
      : []

/**
 * RFC 7662 introspection: Keygate itself checks signature, expiry and whether the session
 * is still live, so a logged-out token is refused at once (one request to Keygate per call).
 */
export function createIntrospector(opts: IntrospectorOptions) {
  async function ask(token: string): Promise<Record<string, unknown>> {
    const res = await postForm(
      opts.fetch,
      opts.endpoint,
      opts.secret,
      { token, token_type_hint: 'access_token' },
      opts.timeoutMs,
    )
    // 401/403 means our secret is wrong: a misconfiguration here, not a bad token.
    if (res.status !== 200) {
      await res.body?.cancel()
      throw unavailable(new Error(`${opts.endpoint} answered ${res.status}`))
    }
    try {
      return (await res.json()) as Record<string, unknown>
    } catch (err) {
      throw unavailable(err)
    }
  }

  return {
    /** Checks that the secret is accepted, so a typo fails at start-up, not on every request. */
    async probe(): Promise<void> {
      await ask('probe')
    },

    async verify(token: string): Promise<JWTPayload> {
      const answer = await ask(token)
      const now = Math.floor(Date.now() / 1000)
      if (
        answer.active !== true ||
        // A refresh token is never a bearer credential for an API (RFC 6749 §1.5).
        (answer.token_type !== undefined && answer.token_type !== 'access_token') ||
        (answer.iss !== undefined && answer.iss !== opts.issuer) ||
        !audienceOf(answer.aud).includes(opts.audience) ||
        typeof answer.sub !== 'string' ||
        typeof answer.exp !== 'number' ||
        answer.exp + opts.clockToleranceSeconds <= now
      ) {
        throw invalidToken()
      }
      const { active: _, token_type: __, ...claims } = answer
      return claims as JWTPayload
    },
  }
}
