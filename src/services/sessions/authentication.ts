import { createHash, randomBytes, randomUUID } from 'node:crypto'
import type { Config } from '../../config.js'
import { holdsClientTokens } from '../../domain/client.js'
import {
  formatScope,
  type GrantScopeInput,
  grantScope,
  type Scope,
  scopesUserMayHold,
  tokenScope,
} from '../../domain/scopes.js'
import {
  AMR_PASSWORD,
  AMR_PASSWORD_OTP,
  type AuthContext,
  type ClientContext,
  DEFAULT_CLIENT_ID,
  idleExpiry,
  type SignIn,
  type TokenPair,
} from '../../domain/session.js'
import type { Clock } from '../../domain/time.js'
import { DAY_MS } from '../../domain/time.js'
import type { User } from '../../domain/user.js'
import { KeygateError } from '../../errors.js'
import type { UsersRepo } from '../../repos/accounts/users.js'
import type { AuditEventsRepo } from '../../repos/audit-events.js'
import type { ClientsRepo } from '../../repos/oauth/clients.js'
import type { RefreshTokensRepo } from '../../repos/sessions/refresh-tokens.js'
import type { SessionLiveness, SessionsRepo } from '../../repos/sessions/sessions.js'
import type { Transact } from '../../repos/support/transaction.js'
import { signInFailure } from '../audit/sign-in-failure.js'
import type { TokenService } from '../crypto/access-tokens.js'
import { createFailureFloor, type FailureFloor } from '../crypto/failure-floor.js'
import type { PasswordHasher } from '../crypto/passwords.js'
import type { FactorsService, SecondFactor } from '../factors/factors.js'
import { accountOf, type Throttle } from '../throttle/throttle.js'
import type { KnownDevices } from './known-device.js'

/** Refresh tokens are stored only as their SHA-256; 256 random bits make a salt unnecessary. */
export const hashRefreshToken = (token: string): string =>
  createHash('sha256').update(token).digest('hex')

/** 256 random bits, base64url. */
export const newRefreshToken = (): string => randomBytes(32).toString('base64url')

export interface AuthServiceDeps {
  config: Pick<Config, 'refreshTokenExpireDays' | 'sessionMaxDays' | 'requireVerifiedEmail'>
  clock: Clock
  hasher: PasswordHasher
  tokens: TokenService
  throttle: Throttle
  users: UsersRepo
  sessions: SessionsRepo
  refreshTokens: RefreshTokensRepo
  clients: ClientsRepo
  audit: AuditEventsRepo
  transact: Transact
  /** known-device markers (OWASP device cookies) */
  devices: KnownDevices
  failureFloor?: FailureFloor
  /** second factors: a correct password on an account with one asks for it (SPEC §9) */
  secondFactors?: Pick<FactorsService, 'hasFactor' | 'startChallenge' | 'completeChallenge'>
  /** the guard's session read, cached (liveness.ts); default: the database every time */
  liveness?: { find(sessionId: string): Promise<SessionLiveness | undefined> }
}

export function createAuthService(deps: AuthServiceDeps) {
  const { config, clock, hasher, tokens, throttle, users, sessions, refreshTokens, devices } = deps
  const { clients } = deps
  const { audit, transact } = deps

  const failureFloor = deps.failureFloor ?? createFailureFloor()
  const liveness = deps.liveness ?? { find: (sid: string) => sessions.findUnrevoked(sid) }

  /**
   * The user whose password this is; INVALID_CREDENTIALS otherwise. An unknown
   * account verifies a dummy hash, and every failure lasts at least as long as
   * the slowest recent verification (see failure-floor.ts), so neither the
   * account's existence nor its hash format shows in the timing.
   */
  async function checkPassword(user: User | undefined, password: string) {
    const startedAt = failureFloor.now()
    const result = user
      ? await hasher.verify(user.hashed_password, password)
      : await hasher.verifyDummy(password).then(() => ({ ok: false, needsRehash: false }))
    const took = failureFloor.record(startedAt)
    if (!user || !result.ok) {
      await failureFloor.pad(took)
      throw new KeygateError('INVALID_CREDENTIALS')
    }
    return { user, needsRehash: result.needsRehash }
  }

  /** A fresh access token for the session, paired with the refresh token the caller holds. */
  async function pairWith(
    user: User,
    sessionId: string,
    clientId: string,
    refresh: string,
    scope: readonly Scope[],
    amr: string[] = AMR_PASSWORD,
  ): Promise<TokenPair> {
    const granted = formatScope(scope)
    const access = await tokens.issueAccess({
      sub: user.id,
      sid: sessionId,
      clientId,
      scope: granted,
      amr,
    })
    return {
      access_token: access,
      token_type: 'bearer',
      expires_in: tokens.accessTtlSeconds,
      refresh_token: refresh,
      scope: granted,
    }
  }

  /** The first pair of a session (any client's): a new refresh family rooted at this token. */
  async function issuePair(
    user: User,
    sessionId: string,
    clientId: string,
    sessionMax: Date,
    scope: readonly Scope[],
    amr: string[] = AMR_PASSWORD,
    repo: Pick<RefreshTokensRepo, 'insert'> = refreshTokens,
  ): Promise<TokenPair> {
    const now = clock.now()
    const refresh = newRefreshToken()
    await repo.insert({
      token_hash: hashRefreshToken(refresh),
      session_id: sessionId,
      created_at: now,
      expires_at: idleExpiry(now, config.refreshTokenExpireDays, sessionMax),
    })
    return pairWith(user, sessionId, clientId, refresh, scope, amr)
  }

  /**
   * A new session and its first pair, for a sign-in proved by `amr`, with the
   * sign-in's audit event in the same transaction.
   */
  async function startSession(
    user: User,
    ctx: ClientContext,
    amr: string[],
    scope: readonly Scope[],
  ): Promise<SignIn> {
    const now = clock.now()
    const max = new Date(now.getTime() + config.sessionMaxDays * DAY_MS)
    const sessionId = randomUUID()
    const clientId = ctx.clientId || DEFAULT_CLIENT_ID
    const pair = await transact(async (r) => {
      await r.sessions.insert({
        id: sessionId,
        user_id: user.id,
        client_id: clientId,
        created_at: now,
        last_used_at: now,
        expires_at: idleExpiry(now, config.refreshTokenExpireDays, max),
        max_expires_at: max,
        user_agent: ctx.userAgent?.slice(0, 512) ?? null,
        ip: ctx.ip ?? null,
        scope: formatScope(scope),
        amr,
      })
      const source = { ...ctx, clientId }
      const details = { amr: amr.join(' ') }
      await r.audit.record({ type: 'sign_in_succeeded', userId: user.id, source, details }, now)
      return issuePair(user, sessionId, clientId, max, scope, amr, r.refreshTokens)
    })
    return { ...pair, device: devices.issue(user.id) }
  }

  /**
   * The password check of every sign-in (the token endpoint and the hosted
   * sign-in page): throttled, and identical for an unknown account and a
   * wrong password. The active account it names, else INVALID_CREDENTIALS,
   * RATE_LIMITED or, after a correct password, INACTIVE_USER.
   */
  async function verifyLogin(login: string, password: string, ctx: ClientContext): Promise<User> {
    const found = await users.findByLogin(login)
    const device = found && devices.verify(ctx.device, found.id)
    const { user, needsRehash } = await throttle
      .login(accountOf(found?.id, login), ctx.ip, () => checkPassword(found, password), device)
      .catch((err) => signInFailure(audit, found, ctx, clock.now(), err))
    // Only after a correct password, so "inactive" reveals nothing to a guesser.
    if (!user.is_active) {
      await signInFailure(audit, user, ctx, clock.now(), new KeygateError('INACTIVE_USER'))
    }
    if (config.requireVerifiedEmail && !user.email_verified) {
      throw new KeygateError('EMAIL_NOT_VERIFIED')
    }
    if (needsRehash) {
      await users.replaceHash(user.id, user.hashed_password, await hasher.hash(password))
    }
    return user
  }

  return {
    issuePair,
    pairWith,
    verifyLogin,

    /**
     * Password login. Unknown account and wrong password fail identically and
     * take the same time: an unknown account still pays for one verification,
     * and both are throttled alike (SPEC §4): per account, whichever of its
     * email or username in whatever case was typed, and per normalized login
     * when there is no such account. The scope is grantScope's (domain/scopes.ts):
     * nothing asked is everything the user may hold, as in Part I.
     */
    async login(
      login: string,
      password: string,
      ctx: ClientContext,
      grant: Omit<GrantScopeInput, 'userMay'> = { requested: undefined },
    ): Promise<SignIn> {
      const user = await verifyLogin(login, password, ctx)
      const scope = grantScope({ ...grant, userMay: scopesUserMayHold(user) })
      // Only a correct password learns that the account has a second factor.
      if (deps.secondFactors && (await deps.secondFactors.hasFactor(user.id))) {
        const mfaToken = await deps.secondFactors.startChallenge(
          user.id,
          ctx.clientId || DEFAULT_CLIENT_ID,
        )
        throw new KeygateError('MFA_REQUIRED', { extra: { mfa_token: mfaToken } })
      }
      return startSession(user, ctx, AMR_PASSWORD, scope)
    },

    /**
     * The second step (SPEC §9): the mfa_token of a correct password and a
     * TOTP or recovery code. The token is bound to the client that got it;
     * the scope is decided as at the first step, from this request's `scope`.
     */
    async completeMfa(
      mfaToken: string,
      proof: SecondFactor,
      ctx: ClientContext,
      grant: Omit<GrantScopeInput, 'userMay'> = { requested: undefined },
    ): Promise<SignIn> {
      if (!deps.secondFactors) throw new KeygateError('INVALID_MFA')
      const clientId = ctx.clientId || DEFAULT_CLIENT_ID
      const user = await deps.secondFactors.completeChallenge(
        mfaToken,
        proof,
        clientId,
        ctx,
        (id) => users.findById(id),
      )
      if (!user.is_active) {
        const source = { ...ctx, clientId }
        await signInFailure(audit, user, source, clock.now(), new KeygateError('INACTIVE_USER'))
      }
      const scope = grantScope({ ...grant, userMay: scopesUserMayHold(user) })
      return startSession(user, ctx, AMR_PASSWORD_OTP, scope)
    },

    /**
     * The bearer guard: a valid signature is not enough. The session must be
     * live and the user active, so logout and deactivation apply on the next request.
     */
    async authenticate(accessToken: string): Promise<AuthContext> {
      const claims = await tokens.verifyAccess(accessToken)
      if (claims.sid === undefined) {
        // A client_credentials token: dead once its client is deleted or loses the
        // grant (401); while alive it speaks for no user, so user routes refuse it (403).
        if (!holdsClientTokens((await clients.find(claims.client_id))?.client))
          throw new KeygateError('INVALID_TOKEN')
        throw new KeygateError('FORBIDDEN')
      }
      const live = await liveness.find(claims.sid)
      if (
        !live?.user.is_active ||
        live.user.id !== claims.sub ||
        live.maxExpiresAt <= clock.now() ||
        (live.pinnedJti !== null && live.pinnedJti !== claims.jti)
      ) {
        throw new KeygateError('INVALID_TOKEN')
      }
      const { user } = live
      return {
        user,
        sessionId: claims.sid,
        tokenId: claims.jti,
        tokenExpiresAt: claims.exp,
        scope: tokenScope(claims.scope, user),
      }
    },
  }
}

export type AuthService = ReturnType<typeof createAuthService>
