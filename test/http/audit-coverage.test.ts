import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { createDeps, type Deps } from '../../src/deps.js'
import type { AuditEventType } from '../../src/domain/audit.js'
import { DEFAULT_CLIENT_ID } from '../../src/domain/session.js'
import { KeygateError } from '../../src/errors.js'
import { buildTestApp } from '../helpers/app.js'
import { auditRows } from '../helpers/audit.js'
import type { TestClock } from '../helpers/clock.js'
import { randomEmail, strongPassword } from '../helpers/factories.js'
import { must } from '../helpers/must.js'
import { resetTokenIn, startSmtpServer, verifyTokenIn } from '../helpers/smtp.js'
import { createSoftAuthenticator } from '../helpers/soft-authenticator.js'
import { totpAt } from '../helpers/totp.js'

type Services = Deps['services']
type Scenario = (s: Services, kit: Kit) => Promise<unknown>
type Kit = Awaited<ReturnType<typeof kitFor>>
type Smtp = Awaited<ReturnType<typeof startSmtpServer>>

const ctx = { ip: '192.0.2.50', userAgent: 'coverage', requestId: 'cov-1' }

/** Fresh accounts and signed-in callers, made through the services themselves. */
async function kitFor(s: Services, clock: TestClock, smtp: Smtp) {
  const user = async () => {
    const input = { email: randomEmail(), password: strongPassword() }
    return { ...(await s.users.signup(input)), password: input.password }
  }
  const signedIn = async () => {
    const u = await user()
    const pair = await s.auth.login(u.email, u.password, ctx)
    return { user: u, pair, caller: await s.auth.authenticate(pair.access_token) }
  }
  /** A signed-in account with TOTP on; the clock is past the step its confirmation spent. */
  const withTotp = async () => {
    const { user: u, caller } = await signedIn()
    const { secret } = await s.factors.beginTotp(caller.user, u.password, ctx)
    const { recovery_codes } = await s.factors.confirmTotp(
      caller.user,
      await totpAt(secret, clock),
      ctx,
    )
    clock.advanceSeconds(30)
    const code = () => totpAt(secret, clock)
    return { user: u, caller, secret, recovery_codes, code }
  }
  /** The mfa_token of a correct password on an account with a factor. */
  const mfaToken = async (u: { email: string; password: string }) => {
    const err = await s.auth.login(u.email, u.password, ctx).catch((e: unknown) => e)
    if (!(err instanceof KeygateError) || err.code !== 'MFA_REQUIRED') throw err
    return must(err.extra.mfa_token)
  }
  /** The verify-email token of the last mail to `address`. */
  const linkTo = async (address: string) => {
    await s.emailVerification.drain()
    const mail = must(smtp.inbox.filter((m) => m.to.includes(address)).at(-1))
    return verifyTokenIn(mail.raw)
  }
  /** A registered confidential client. */
  const client = () =>
    s.clients.create({
      name: 'Coverage',
      type: 'confidential',
      redirect_uris: ['https://app.example/cb'],
    })
  /** A signed-in account with a passkey on a software authenticator. */
  const withPasskey = async () => {
    const { user: u, caller } = await signedIn()
    const device = createSoftAuthenticator({ origin: s.passkeys.origin })
    const { options, handle } = await s.passkeys.registrationOptions(caller.user, clock.now())
    const passkey = await s.passkeys.register(
      caller.user,
      clock.now(),
      handle,
      device.register(options),
      undefined,
      ctx,
    )
    return { user: u, caller, device, passkey }
  }
  return { user, signedIn, withTotp, withPasskey, mfaToken, linkTo, client }
}

/**
 * The state-changing methods, each with a scenario that calls it and the
 * event it must record (in its own transaction: the scenario's call is the
 * only writer, so a new row of that type can only come from it).
 */
const AUDITED: Record<string, [AuditEventType, Scenario]> = {
  'browserSessions.signIn': [
    'sign_in_succeeded',
    async (s, k) => {
      const { caller } = await k.signedIn()
      await s.browserSessions.signIn(caller.user, { amr: ['pwd'] }, ctx)
    },
  ],
  'browserSessions.signInWithPassword': [
    'sign_in_succeeded',
    async (s, k) => {
      const u = await k.user()
      await s.browserSessions.signInWithPassword(u.email, u.password, ctx)
    },
  ],
  'browserSessions.signOut': [
    'logged_out',
    async (s, k) => {
      const u = await k.user()
      const { signedIn } = await s.browserSessions.signInWithPassword(u.email, u.password, ctx)
      await s.browserSessions.signOut(must(signedIn).session.id, ctx)
    },
  ],
  'browserSessions.changePassword': [
    'password_changed',
    async (s, k) => {
      const u = await k.user()
      const step = await s.browserSessions.signInWithPassword(u.email, u.password, ctx)
      const signedIn = must(step.signedIn)
      const current = {
        session: signedIn.session,
        user: await s.users.get(signedIn.session.user_id),
      }
      await s.browserSessions.changePassword(current, u.password, strongPassword(), ctx)
    },
  ],
  'auth.login': [
    'sign_in_succeeded',
    async (s, k) => {
      const u = await k.user()
      await s.auth.login(u.email, u.password, ctx)
    },
  ],
  'oauth.grant': [
    'sign_in_succeeded',
    async (s, k) => {
      const u = await k.user()
      await s.oauth.grant({ username: u.email, password: u.password }, ctx, {})
    },
  ],
  'oauth.login': [
    'sign_in_succeeded',
    async (s, k) => {
      const u = await k.user()
      await s.oauth.login({ email: u.email, password: u.password }, ctx)
    },
  ],
  'sessions.refresh': [
    'token_refreshed',
    async (s, k) => {
      const { pair } = await k.signedIn()
      await s.sessions.refresh(pair.refresh_token, undefined, ctx)
    },
  ],
  'sessions.logout': [
    'logged_out',
    async (s, k) => {
      await s.sessions.logout((await k.signedIn()).caller, false, ctx)
    },
  ],
  'authorizationCodes.exchange': [
    'sign_in_succeeded',
    async (s, k) => {
      const { caller } = await k.signedIn()
      const browser = await s.browserSessions.signIn(caller.user, { amr: ['pwd'] }, ctx)
      const { client } = await s.clients.create({
        name: 'Coverage app',
        type: 'public',
        redirect_uris: ['https://app.example/cb'],
      })
      const verifier = 'v'.repeat(43)
      const request = {
        client,
        redirectUri: 'https://app.example/cb',
        scopes: ['openid'],
        codeChallenge: createHash('sha256').update(verifier).digest('base64url'),
        prompt: [],
      }
      const code = await s.authorizationCodes.issue(request, { ...browser, user: caller.user }, [
        'openid',
      ])
      const form = { code, redirect_uri: request.redirectUri, code_verifier: verifier }
      await s.authorizationCodes.exchange(client, form, ctx)
    },
  ],
  'sessions.revoke': [
    'session_revoked',
    async (s, k) => {
      const { caller } = await k.signedIn()
      await s.sessions.revoke(caller, caller.sessionId, ctx)
    },
  ],
  'introspection.revoke': [
    'session_revoked',
    async (s, k) => {
      await s.introspection.revoke((await k.signedIn()).pair.refresh_token, 'refresh_token', ctx)
    },
  ],
  'users.signup': ['user_created', (_s, k) => k.user()],
  'users.ensureFirstSuperuser': [
    'user_created',
    (s) => s.users.ensureFirstSuperuser(randomEmail(), strongPassword()),
  ],
  'account.updateProfile': [
    'profile_updated',
    async (s, k) => {
      await s.account.updateProfile((await k.signedIn()).caller, { username: 'renamed' }, ctx)
    },
  ],
  'account.changePassword': [
    'password_changed',
    async (s, k) => {
      const { caller, user } = await k.signedIn()
      await s.account.changePassword(caller, user.password, strongPassword(), ctx)
    },
  ],
  'account.deleteSelf': [
    'user_deleted',
    async (s, k) => {
      const { caller, user } = await k.signedIn()
      await s.account.deleteSelf(caller, user.password, ctx)
    },
  ],
  'admin.update': [
    'user_deactivated',
    async (s, k) => {
      await s.admin.update((await k.user()).id, { is_active: false }, { actorId: 'admin' })
    },
  ],
  'admin.remove': [
    'user_deleted',
    async (s, k) => {
      await s.admin.remove((await k.user()).id, { actorId: 'admin' })
    },
  ],
  'admin.revokeSessions': [
    'sessions_revoked_by_admin',
    async (s, k) => {
      await s.admin.revokeSessions((await k.signedIn()).user.id, { actorId: 'admin' })
    },
  ],
  'passwordReset.issueLink': [
    'password_reset_requested',
    async (s, k) => {
      await s.passwordReset.issueLink((await k.user()).email)
    },
  ],
  'passwordReset.request': [
    'password_reset_requested',
    async (s, k) => {
      const log = { error: () => {} }
      s.passwordReset.request((await k.user()).email, log, ctx)
      await s.passwordReset.drain()
    },
  ],
  'passwordReset.confirm': [
    'password_reset_completed',
    async (s, k) => {
      const link = await s.passwordReset.issueLink((await k.user()).email)
      const token = new URL(link ?? '').searchParams.get('token') ?? ''
      await s.passwordReset.confirm(token, strongPassword(), ctx)
    },
  ],
  'browserSessions.completeSecondFactor': [
    'sign_in_succeeded',
    async (s, k) => {
      const t = await k.withTotp()
      const step = await s.browserSessions.signInWithPassword(t.user.email, t.user.password, ctx)
      await s.browserSessions.completeSecondFactor(
        must(step.challenge),
        { otp: await t.code() },
        ctx,
      )
    },
  ],
  'auth.completeMfa': [
    'sign_in_succeeded',
    async (s, k) => {
      const t = await k.withTotp()
      await s.auth.completeMfa(await k.mfaToken(t.user), { otp: await t.code() }, ctx)
    },
  ],
  'oauth.loginMfa': [
    'recovery_code_used',
    async (s, k) => {
      const t = await k.withTotp()
      const recovery_code = must(t.recovery_codes[0])
      await s.oauth.loginMfa({ mfa_token: await k.mfaToken(t.user), recovery_code }, ctx)
    },
  ],
  'factors.completeChallenge': [
    'factor_used',
    async (s, k) => {
      const t = await k.withTotp()
      const token = await k.mfaToken(t.user)
      const find = async () => t.caller.user
      await s.factors.completeChallenge(
        token,
        { otp: await t.code() },
        DEFAULT_CLIENT_ID,
        ctx,
        find,
      )
    },
  ],
  'factors.confirmTotp': ['factor_enrolled', (_s, k) => k.withTotp()],
  'passkeys.register': ['factor_enrolled', (_s, k) => k.withPasskey()],
  'passkeys.authenticate': [
    'factor_used',
    async (s, k) => {
      const { device } = await k.withPasskey()
      const { options, handle } = await s.passkeys.authenticationOptions()
      await s.passkeys.authenticate(handle, device.authenticate(options), ctx)
    },
  ],
  'passkeys.remove': [
    'factor_removed',
    async (s, k) => {
      const { caller, passkey } = await k.withPasskey()
      await s.passkeys.remove(caller.user.id, passkey.id, ctx)
    },
  ],
  'factors.disableTotp': [
    'factor_removed',
    async (s, k) => {
      const t = await k.withTotp()
      await s.factors.disableTotp(t.caller.user, t.user.password, await t.code(), ctx)
    },
  ],
  'factors.regenerateRecoveryCodes': [
    'recovery_codes_regenerated',
    async (s, k) => {
      const t = await k.withTotp()
      await s.factors.regenerateRecoveryCodes(t.caller.user, t.user.password, await t.code(), ctx)
    },
  ],
  'factors.reset': [
    'factor_removed',
    async (s, k) => {
      await s.factors.reset((await k.withTotp()).caller.user, undefined, { actorId: 'admin' })
    },
  ],
  'emailVerification.start': [
    'email_verification_requested',
    async (s, k) => {
      s.emailVerification.start(await k.user(), undefined, ctx)
      await s.emailVerification.drain()
    },
  ],
  'emailVerification.request': [
    'email_verification_requested',
    async (s, k) => {
      s.emailVerification.request(await k.user(), undefined, ctx)
      await s.emailVerification.drain()
    },
  ],
  'emailVerification.requestForLogin': [
    'email_verification_requested',
    async (s, k) => {
      s.emailVerification.requestForLogin((await k.user()).email, undefined, ctx)
      await s.emailVerification.drain()
    },
  ],
  'emailVerification.requestChange': [
    'email_change_requested',
    async (s, k) => {
      await s.emailVerification.requestChange(await k.user(), randomEmail(), undefined, ctx)
    },
  ],
  'emailVerification.confirm': [
    'email_verified',
    async (s, k) => {
      const u = await k.user()
      s.emailVerification.request(u, undefined, ctx)
      await s.emailVerification.confirm(await k.linkTo(u.email), ctx)
    },
  ],
  'clients.create': ['client_created', (_s, k) => k.client()],
  'clients.update': [
    'client_updated',
    async (s, k) => {
      const { client } = await k.client()
      await s.clients.update(client.client_id, { name: 'Renamed' }, { actorId: 'admin' })
    },
  ],
  'clients.delete': [
    'client_deleted',
    async (s, k) => {
      await s.clients.delete((await k.client()).client.client_id, { actorId: 'admin' })
    },
  ],
  'clients.rotateSecret': [
    'client_secret_rotated',
    async (s, k) => {
      await s.clients.rotateSecret((await k.client()).client.client_id, { actorId: 'admin' })
    },
  ],
  'consents.grant': [
    'consent_granted',
    async (s, k) => {
      const { client } = await k.client()
      await s.consents.grant(await k.user(), client, ['openid'], ctx)
    },
  ],
  'consents.withdraw': [
    'consent_withdrawn',
    async (s, k) => {
      const { client } = await k.client()
      const u = await k.user()
      await s.consents.grant(u, client, ['openid'], ctx)
      await s.consents.withdraw(u, client.client_id, ctx)
    },
  ],
  'importUsers.run': [
    'users_imported',
    (s) =>
      s.importUsers.run(
        (async function* () {
          yield {
            line: 1,
            fields: { email: randomEmail(), hashed_password: `$2b$04$${'a'.repeat(53)}` },
          }
        })(),
      ),
  ],
}

/** Methods that change no account, session or credential, each with why. */
const NOT_AUDITED: Record<string, string> = {
  'auth.verifyLogin':
    'the password step of every sign-in: it records failures; the sign-in that follows records success',
  'browserSessions.current': 'reads (and moves the idle expiry, as a refresh would)',
  'csrf.newSecret': 'form tokens: computed, nothing stored',
  'csrf.isSecret': 'form tokens: computed, nothing stored',
  'csrf.tokenFor': 'form tokens: computed, nothing stored',
  'csrf.verify': 'form tokens: computed, nothing stored',
  'auth.authenticate': 'reads: the bearer guard',
  'auth.issuePair': 'a step of login and refresh, which record the event',
  'auth.pairWith': 'a step of login and refresh, which record the event',
  'sessions.list': 'reads',
  'sessions.prune': 'maintenance: deletes only sessions already dead',
  'revocationFeed.page':
    'reads the feed (the revocations themselves are audited where they happen)',
  'revocationFeed.prune': 'maintenance: deletes only entries whose tokens have all expired',
  'introspection.authorizeCaller': 'reads',
  'introspection.introspect': 'reads',
  'users.get': 'reads',
  'admin.list': 'reads',
  'admin.search': 'reads',
  'admin.get': 'reads',
  'passwordReset.drain': 'waits for mail already audited at request',
  'throttle.request': 'throttle counters, not account state',
  'throttle.login': 'throttle counters; the sign-in records the outcome',
  'throttle.signup': 'throttle counters, not account state',
  'throttle.resetMail': 'throttle counters, not account state',
  'throttle.write': 'throttle counters, not account state',
  'posts.list': 'reads',
  'posts.get': 'reads',
  'posts.create': 'content, not security: SPEC §10 audits accounts, sessions and credentials',
  'posts.update': 'content, not security',
  'posts.remove': 'content, not security',
  'discovery.metadata': 'reads',
  'discovery.jwks': 'reads',
  'readiness.check': 'reads',
  'audit.list': 'reads',
  'audit.listForUser': 'reads',
  'audit.prune': 'retention (AUDIT_RETENTION_DAYS)',
  'clients.get': 'reads',
  'clients.find': 'reads',
  'clients.list': 'reads',
  'clients.authenticate': 'a check at the token endpoint; the grant records the sign-in',
  'oauth.authenticateClient': 'a check at the token endpoint; the grant records the sign-in',
  'emailVerification.drain': 'waits for mail already audited at request',
  'factors.verifyTotp': 'a bare check; the action it guards records the event',
  'factors.useRecoveryCode': 'a bare check; the action it guards records the event',
  'factors.proveSecondFactor': 'a check; the action it guards records the event',
  'factors.hasFactor': 'reads',
  'passkeys.canRegister': 'reads',
  'passkeys.list': 'reads',
  'passkeys.registrationOptions': 'a pending challenge; register records the enrolment',
  'passkeys.authenticationOptions': 'a pending challenge; authenticate records the use',
  'passkeys.rename': 'a label the owner reads; no factor or access changes',
  'factors.status': 'reads',
  'factors.beginTotp': 'a pending secret, no factor until confirmTotp (factor_enrolled)',
  'factors.startChallenge': 'a step of auth.login; the second step records its outcome',
  'factors.pendingChallenge': 'reads: whether the sign-in page has a second step to show',
  'browserSessions.pendingSecondFactor':
    'reads: whether the sign-in page has a second step to show',
  'emailVerification.pendingChange': 'reads: the account page shows a change waiting for its link',
  'factors.drain': 'waits for the reset notice, audited at reset',
  'authorize.authorize': 'issues a code; the exchange records the sign-in of the app',
  'authorizationCodes.issue': 'a step of authorize; the exchange records the sign-in of the app',
  'authorizationCodes.prune': 'maintenance: deletes only expired codes',
  'idTokens.issue': 'a step of the code exchange, which records the event',
  'idTokens.verifyHint': 'a check; the logout it allows records logged_out',
  'rpLogout.request': 'ends sessions through browserSessions.signOut, which records logged_out',
  'rpLogout.confirm': 'ends sessions through browserSessions.signOut, which records logged_out',
  'consents.needed': 'reads',
  'consents.decide': 'reads',
  'consents.list': 'reads',
  'consentRequests.seal': 'a MAC over a pending request; nothing stored',
  'consentRequests.open': 'a check of a sealed request',
  'consent.decide': 'reads: whether the consent page is needed',
  'consent.pending': 'reads: the request a consent page shows',
  'consent.answer': 'allow grants through consents.grant, which records consent_granted',
}

/** Every `service.method` the app is built with. */
const methodsOf = (services: Services) =>
  Object.entries(services).flatMap(([name, service]) =>
    Object.entries(service as object)
      .filter(([, v]) => typeof v === 'function')
      .map(([method]) => `${name}.${method}`),
  )

describe('audit coverage', () => {
  /*
   * How a new method is caught: the first assertion lists every function of
   * every service createDeps builds. A method (or a whole service) added
   * without being placed in AUDITED, with a scenario and the event it must
   * write, or in NOT_AUDITED, with the reason it changes nothing worth
   * auditing, fails here with its name. The loop then runs each scenario and
   * fails for any audited method that no longer writes its event.
   */
  it('every state-changing service method records an event', async () => {
    const smtp = await startSmtpServer()
    const { database, clock, config } = await buildTestApp({ smtpUrl: smtp.url })
    const deps = await createDeps(config, { database, clock })
    try {
      const unclassified = methodsOf(deps.services).filter(
        (m) => !(m in AUDITED) && !(m in NOT_AUDITED),
      )
      expect(unclassified, 'classify these in AUDITED or NOT_AUDITED').toEqual([])
      const stale = [...Object.keys(AUDITED), ...Object.keys(NOT_AUDITED)].filter(
        (m) => !methodsOf(deps.services).includes(m),
      )
      expect(stale, 'no longer exist').toEqual([])

      const kit = await kitFor(deps.services, clock, smtp)
      const silent: string[] = []
      for (const [method, [type, scenario]] of Object.entries(AUDITED)) {
        const count = async () => (await auditRows(database)).filter((r) => r.type === type).length
        const before = await count()
        await scenario(deps.services, kit)
        if ((await count()) <= before) silent.push(`${method} (expected ${type})`)
      }
      expect(silent, 'these recorded nothing').toEqual([])
      // The mailed request really sent its link (so its event is not a fluke).
      await deps.services.passwordReset.drain()
      const resets = smtp.inbox.filter((m) => m.raw.includes('/reset-password?token='))
      expect(resetTokenIn(must(resets[0]).raw)).toBeTruthy()
    } finally {
      await deps.close()
    }
  }, 60_000)
})
