/**
 * The browser session (SPEC §7 "Browser session (SSO)").
 *
 * One session model: a browser session is a row of `sessions` with the
 * `keygate` client, found by the SHA-256 of its cookie (`cookie_hash`), with
 * `auth_time` and `amr` (RFC 8176) of the sign-in that made it. It has no
 * refresh tokens, and the cookie never authenticates an API call (the bearer
 * guard reads only `Authorization`).
 *
 * Contract for the authorization endpoint (the OpenID provider):
 * - A browser without a live session is redirected to
 *   `/signin?return_to=<authorize path + query>` (add `&login_hint=…` when the
 *   request carried one). `return_to` must be a path on Keygate (one leading
 *   `/`, no `//`, no `\`, no scheme) or the page ignores it. After sign-in
 *   the page sends the browser back to `return_to` as a fresh GET navigation
 *   (a meta-refresh page, not a 303: CSP form-action would block the
 *   authorize endpoint's redirect to the client after a form post).
 * - `prompt=login` / an old `auth_time` under `max_age`: send the browser to
 *   /signin the same way; signing in again keeps the same session id (its
 *   children stay attached) with a new cookie and a new `auth_time`.
 * - Read the session with `currentBrowserSession(request, deps)` from
 *   src/http/pages/kit/browser-session.ts, or
 *   `services.browserSessions.current(request.cookies[browserSessionCookie(publicUrl)])`:
 *   `{ session, user }` (live session, active user) or null. `session.auth_time`
 *   and `session.amr` feed the ID token's `auth_time` and `amr`; `session.id` is its `sid`.
 * - Each authorization opens its own child session: insert a session (own
 *   client_id, own refresh family) with `parent_id: session.id`, `auth_time`
 *   and `amr` copied. `signOut(session.id)` then ends the browser session and
 *   every child in one statement, as does revoking it from the session list.
 * - Pages: an error page is `sendErrorPage(request, reply, 400, sentence)`
 *   (http/pages/kit/error-page.tsx); a page with a form (consent) belongs in the
 *   `hostedPages` context (app.ts) and, when its post redirects to a client,
 *   names that origin with `sendPage(..., { formAction: [origin] })`.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import type { Config } from '../../config.js'
import { scopesUserMayHold } from '../../domain/scopes.js'
import {
  type AuthContext,
  type ClientContext,
  DEFAULT_CLIENT_ID,
  idleExpiry,
  type Session,
} from '../../domain/session.js'
import { type Clock, DAY_MS } from '../../domain/time.js'
import type { User } from '../../domain/user.js'
import { KeygateError } from '../../errors.js'
import type { UsersRepo } from '../../repos/accounts/users.js'
import type { SessionsRepo } from '../../repos/sessions/sessions.js'
import type { Transact } from '../../repos/support/transaction.js'
import type { AccountService } from '../accounts/profile.js'
import type { FactorsService, SecondFactor } from '../factors/factors.js'
import type { AuthService } from './authentication.js'
import type { KnownDevices } from './known-device.js'

/** RFC 8176 authentication method references Keygate records. */
export type Amr = 'pwd' | 'otp' | 'hwk' | 'swk' | 'user' | 'mfa'

/**
 * The cookie's name: `__Host-keygate_session` when PUBLIC_URL is https (the
 * prefix makes browsers demand Secure, Path=/ and no Domain, so a sibling
 * subdomain cannot plant or shadow it), else `keygate_session`.
 */
export const browserSessionCookie = (publicUrl: string): string =>
  publicUrl.startsWith('https:') ? '__Host-keygate_session' : 'keygate_session'

/** The cookie is stored only as its SHA-256: 256 random bits need no salt. */
const hashCookie = (value: string): string => createHash('sha256').update(value).digest('hex')

// 32 bytes as base64url: 43 characters of the URL-safe alphabet.
const COOKIE_VALUE = /^[A-Za-z0-9_-]{43}$/

// The idle limit moves on a use at most this often, not on every page view.
const TOUCH_EVERY_MS = 60_000

export interface BrowserSessionsDeps {
  config: Pick<Config, 'refreshTokenExpireDays' | 'sessionMaxDays'>
  clock: Clock
  auth: Pick<AuthService, 'verifyLogin'>
  account: Pick<AccountService, 'changePassword'>
  sessions: SessionsRepo
  devices: KnownDevices
  transact: Transact
  /** the second step of a sign-in (SPEC §9): the mfa challenge the API uses too */
  factors: Pick<
    FactorsService,
    'hasFactor' | 'startChallenge' | 'completeChallenge' | 'pendingChallenge'
  >
  users: Pick<UsersRepo, 'findById'>
}

/**
 * The client a sign-in page's challenge is bound to: it is not an mfa_token
 * of the API (completeChallenge refuses it for any other client), and an API
 * mfa_token does not open the page's second step.
 */
export const SIGNIN_PAGE_CHALLENGE_CLIENT = 'keygate:signin-page'

/** What a correct password on the sign-in page leads to. */
export type PasswordSignIn =
  | { secondFactor: false; signedIn: BrowserSignIn & { device: string }; challenge?: undefined }
  /** the account has a factor: no session yet; `challenge` is a secret (an HttpOnly cookie, never a URL) */
  | { secondFactor: true; challenge: string; signedIn?: undefined }

export interface BrowserSignIn {
  /** the cookie's value: set it, never log or store it */
  cookie: string
  session: Session
}

/**
 * The person at the browser as a caller of the account services: they act
 * for themselves with everything their account may do (a token's scopes
 * limit what an app may do, not the owner on Keygate's own pages).
 */
export const browserCaller = (current: { session: Session; user: User }): AuthContext => ({
  user: current.user,
  sessionId: current.session.id,
  scope: scopesUserMayHold(current.user),
})

export function createBrowserSessionsService(deps: BrowserSessionsDeps) {
  const { config, clock, auth, account, sessions, devices, transact, factors, users } = deps

  /**
   * A new browser session for the user, with a new cookie. When the browser
   * already holds one (`replacing`): the same person keeps that session under
   * a new cookie and a new auth_time (the apps opened from it stay attached,
   * and end with it); another person's is signed out first, with its apps.
   */
  async function signIn(
    user: User,
    how: { amr: Amr[] },
    ctx: ClientContext = {},
    replacing?: Session,
  ): Promise<BrowserSignIn> {
    const now = clock.now()
    const cookie = randomBytes(32).toString('base64url')
    const source = { ...ctx, clientId: DEFAULT_CLIENT_ID }
    const details = { amr: how.amr.join(' '), via: 'page' }
    return transact(async (r) => {
      await r.audit.record({ type: 'sign_in_succeeded', userId: user.id, source, details }, now)
      if (replacing && replacing.user_id === user.id) {
        const expiresAt = idleExpiry(now, config.refreshTokenExpireDays, replacing.max_expires_at)
        const at = { now, expiresAt, amr: how.amr }
        if (await r.sessions.reauthenticate(replacing.id, hashCookie(cookie), at)) {
          const session = { ...replacing, last_used_at: now, expires_at: expiresAt, auth_time: now }
          return { cookie, session: { ...session, amr: how.amr } }
        }
      } else if (replacing) {
        await r.sessions.revoke(replacing.id, now)
      }
      const max = new Date(now.getTime() + config.sessionMaxDays * DAY_MS)
      const session: Session = {
        id: randomUUID(),
        user_id: user.id,
        client_id: DEFAULT_CLIENT_ID,
        created_at: now,
        last_used_at: now,
        expires_at: idleExpiry(now, config.refreshTokenExpireDays, max),
        max_expires_at: max,
        revoked_at: null,
        user_agent: ctx.userAgent?.slice(0, 512) ?? null,
        ip: ctx.ip ?? null,
        scope: null,
        parent_id: null,
        auth_time: now,
        amr: how.amr,
      }
      await r.sessions.insert(session, hashCookie(cookie))
      return { cookie, session }
    })
  }

  return {
    signIn,

    /**
     * The hosted sign-in form: the token endpoint's password check (same
     * throttles, same answer for an unknown account and a wrong password).
     * An account with a second factor gets a challenge and no session yet
     * (only a correct password learns that a factor exists); any other gets
     * a browser session and a known-device marker for the next sign-in.
     */
    async signInWithPassword(
      login: string,
      password: string,
      ctx: ClientContext,
      replacing?: Session,
    ): Promise<PasswordSignIn> {
      const user = await auth.verifyLogin(login, password, ctx)
      if (await factors.hasFactor(user.id)) {
        const challenge = await factors.startChallenge(user.id, SIGNIN_PAGE_CHALLENGE_CLIENT)
        return { secondFactor: true, challenge }
      }
      const signedIn = await signIn(user, { amr: ['pwd'] }, ctx, replacing)
      return { secondFactor: false, signedIn: { ...signedIn, device: devices.issue(user.id) } }
    },

    /**
     * The user a sign-in page's live challenge waits for (without spending
     * it), else undefined: what the second step shows itself for, and what a
     * passkey as second factor would look up credentials of.
     */
    async pendingSecondFactor(challenge: string | undefined): Promise<User | undefined> {
      if (challenge === undefined || !COOKIE_VALUE.test(challenge)) return undefined
      const userId = await factors.pendingChallenge(challenge, SIGNIN_PAGE_CHALLENGE_CLIENT)
      const user = userId === undefined ? undefined : await users.findById(userId)
      return user?.is_active ? user : undefined
    },

    /**
     * The second step: the challenge and a TOTP or recovery code (throttled
     * like the API's; 5 wrong codes or 5 minutes kill the challenge, both
     * INVALID_MFA), then the browser session, amr pwd+otp+mfa (RFC 8176).
     * Passkeys as a second factor extend `SecondFactor` (factors.ts
     * verifyEither) and pass their amr here.
     */
    async completeSecondFactor(
      challenge: string,
      proof: SecondFactor,
      ctx: ClientContext,
      replacing?: Session,
      amr: Amr[] = ['pwd', 'otp', 'mfa'],
    ): Promise<BrowserSignIn & { device: string }> {
      if (!COOKIE_VALUE.test(challenge)) throw new KeygateError('INVALID_MFA')
      const user = await factors.completeChallenge(
        challenge,
        proof,
        SIGNIN_PAGE_CHALLENGE_CLIENT,
        ctx,
        async (id) => await users.findById(id),
      )
      if (!user.is_active) throw new KeygateError('INACTIVE_USER')
      const signedIn = await signIn(user, { amr }, ctx, replacing)
      return { ...signedIn, device: devices.issue(user.id) }
    },

    /** The live session a cookie value opens, with its active user; null otherwise. */
    async current(
      cookieValue: string | undefined,
    ): Promise<{ session: Session; user: User } | null> {
      if (cookieValue === undefined || !COOKIE_VALUE.test(cookieValue)) return null
      const now = clock.now()
      const found = await sessions.findLiveByCookie(hashCookie(cookieValue), now)
      if (!found?.user.is_active) return null
      const { session } = found
      if (now.getTime() - session.last_used_at.getTime() >= TOUCH_EVERY_MS) {
        const idle = idleExpiry(now, config.refreshTokenExpireDays, session.max_expires_at)
        if (!(await sessions.touch(session.id, now, idle))) return null
      }
      return found
    },

    /** Ends the browser session and every session opened from it (one statement). */
    async signOut(sessionId: string, ctx: ClientContext = {}): Promise<void> {
      const now = clock.now()
      await transact(async (r) => {
        const session = await r.sessions.findById(sessionId)
        if (!session || !(await r.sessions.revoke(sessionId, now))) return
        const details = { session_id: sessionId, via: 'page' }
        const userId = session.user_id
        await r.audit.record({ type: 'logged_out', userId, source: ctx, details }, now)
      })
    },

    /**
     * A password change from the account page: every other session ends, this
     * one too (its cookie may have been copied), and the browser gets a fresh one.
     */
    async changePassword(
      current: { session: Session; user: User },
      currentPassword: string,
      newPassword: string,
      ctx: ClientContext,
    ): Promise<BrowserSignIn> {
      await account.changePassword(browserCaller(current), currentPassword, newPassword, ctx)
      return signIn(current.user, { amr: ['pwd'] }, ctx)
    },
  }
}
