import { createHash, timingSafeEqual } from 'node:crypto'
import type { Config } from '../../config.js'
import { holdsClientTokens } from '../../domain/client.js'
import { formatScope, tokenScope } from '../../domain/scopes.js'
import { type AuthContext, type ClientContext, isLive } from '../../domain/session.js'
import type { Clock } from '../../domain/time.js'
import type { User } from '../../domain/user.js'
import { KeygateError } from '../../errors.js'
import type { UsersRepo } from '../../repos/accounts/users.js'
import type { ClientsRepo } from '../../repos/oauth/clients.js'
import type { RefreshTokensRepo } from '../../repos/sessions/refresh-tokens.js'
import type { SessionsRepo } from '../../repos/sessions/sessions.js'
import type { Transact } from '../../repos/support/transaction.js'
import type { AccessClaims, TokenService } from '../crypto/access-tokens.js'
import { type AuthService, hashRefreshToken } from '../sessions/authentication.js'

/** RFC 7662 §2.2 introspection response. */
export type Introspection =
  | { active: false }
  | {
      active: true
      sub: string
      /** absent for a client_credentials token */
      sid?: string
      client_id: string
      exp: number
      iat: number
      iss: string
      aud: string
      scope: string
      token_type: 'access_token' | 'refresh_token'
      jti?: string
      username?: string
    }

export interface IntrospectionServiceDeps {
  config: Pick<Config, 'jwtIssuer' | 'jwtAudience' | 'introspectionSecret'>
  clock: Clock
  auth: AuthService
  tokens: TokenService
  users: UsersRepo
  sessions: SessionsRepo
  refreshTokens: RefreshTokensRepo
  clients: ClientsRepo
  transact: Transact
}

const seconds = (d: Date) => Math.floor(d.getTime() / 1000)
const digest = (s: string) => createHash('sha256').update(s).digest()

/** Revocation (RFC 7009) and introspection (RFC 7662) for clients and resource servers. */
export function createIntrospectionService(deps: IntrospectionServiceDeps) {
  const { config, clock, auth, tokens, users, sessions, refreshTokens, clients, transact } = deps
  const inactive = { active: false } as const

  async function accessClaims(token: string): Promise<AccessClaims | undefined> {
    return tokens.verifyAccess(token).catch((err) => {
      if (err instanceof KeygateError) return undefined
      throw err
    })
  }

  function answer(
    user: User | undefined,
    fields: Omit<Introspection & { active: true }, 'active' | 'iss' | 'aud'>,
  ): Introspection {
    return {
      active: true,
      ...fields,
      iss: config.jwtIssuer,
      aud: config.jwtAudience,
      ...(user?.username != null && { username: user.username }),
    }
  }

  async function introspectAccess(token: string): Promise<Introspection | undefined> {
    const claims = await accessClaims(token)
    if (!claims) return undefined
    if (claims.sid === undefined) {
      // A client_credentials token: active while its client is registered for that grant.
      if (!holdsClientTokens((await clients.find(claims.client_id))?.client)) return inactive
      const { sub, client_id, exp, iat, jti, scope = '' } = claims
      return answer(undefined, { sub, client_id, exp, iat, jti, scope, token_type: 'access_token' })
    }
    const user = await sessions.findLiveWithUser(claims.sid, claims.sub, clock.now(), claims.jti)
    if (!user?.is_active) return inactive
    const { sub, sid, client_id, exp, iat, jti } = claims
    const scope = formatScope(tokenScope(claims.scope, user))
    return answer(user, { sub, sid, client_id, exp, iat, jti, scope, token_type: 'access_token' })
  }

  async function introspectRefresh(token: string): Promise<Introspection> {
    const now = clock.now()
    const stored = await refreshTokens.findByHash(hashRefreshToken(token))
    // A spent token is no longer active, even inside the reuse grace window.
    if (!stored || stored.used_at !== null || stored.expires_at <= now) return inactive
    const session = await sessions.findById(stored.session_id)
    if (!session || !isLive(session, now)) return inactive
    const user = await users.findById(session.user_id)
    if (!user?.is_active) return inactive
    return answer(user, {
      sub: user.id,
      sid: session.id,
      client_id: session.client_id,
      exp: seconds(stored.expires_at),
      iat: seconds(stored.created_at),
      // What a refresh with this token could be granted: the family's scope.
      scope: formatScope(tokenScope(session.scope, user)),
      token_type: 'refresh_token',
    })
  }

  /** Revokes the session and records it, in one transaction; nothing when it was already dead. */
  async function revokeSession(sessionId: string, userId: string, ctx: ClientContext) {
    const now = clock.now()
    await transact(async (r) => {
      if (!(await r.sessions.revokeForUser(sessionId, userId, now))) return
      const details = { session_id: sessionId, via: 'token_revocation' }
      await r.audit.record({ type: 'session_revoked', userId, source: ctx, details }, now)
    })
  }

  async function revokeAccess(token: string, ctx: ClientContext): Promise<boolean> {
    const claims = await accessClaims(token)
    // A client_credentials token has no session to revoke; it dies with its client.
    if (claims?.sid) await revokeSession(claims.sid, claims.sub, ctx)
    return claims !== undefined
  }

  async function revokeRefresh(token: string, ctx: ClientContext): Promise<boolean> {
    const stored = await refreshTokens.findByHash(hashRefreshToken(token))
    const session = stored && (await sessions.findById(stored.session_id))
    if (session) await revokeSession(session.id, session.user_id, ctx)
    return stored !== undefined
  }

  return {
    /**
     * RFC 7662 §2.1: the caller must be authorised. INTROSPECTION_SECRET is
     * compared in constant time (over SHA-256 digests, so lengths leak nothing);
     * otherwise the bearer must be a live superuser's access token (returned,
     * so the route's `admin` scope is checked as on every superuser route).
     */
    async authorizeCaller(bearer: string): Promise<AuthContext | null> {
      const secret = config.introspectionSecret
      if (secret !== undefined && timingSafeEqual(digest(bearer), digest(secret))) return null
      const caller = await auth.authenticate(bearer)
      if (!caller.user.is_superuser) throw new KeygateError('FORBIDDEN')
      return caller
    },

    /** RFC 7662: `{active: false}` for anything revoked, expired, spent, unknown or malformed. */
    async introspect(token: string | undefined): Promise<Introspection> {
      if (!token) throw new KeygateError('INVALID_REQUEST')
      return (await introspectAccess(token)) ?? introspectRefresh(token)
    },

    /**
     * RFC 7009: revoking either token revokes its session (so the pair dies
     * together, §2.1). Unknown or invalid tokens are not an error (§2.2); the
     * hint only decides which kind is tried first.
     */
    async revoke(token: string | undefined, hint?: string, ctx: ClientContext = {}): Promise<void> {
      if (!token) throw new KeygateError('INVALID_REQUEST')
      if (hint === 'refresh_token') {
        if (!(await revokeRefresh(token, ctx))) await revokeAccess(token, ctx)
      } else if (!(await revokeAccess(token, ctx))) {
        await revokeRefresh(token, ctx)
      }
    },
  }
}
