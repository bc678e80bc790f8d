import { createHash, randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { expect } from 'vitest'
import type { Config } from '../../src/config.js'
import { createDeps } from '../../src/deps.js'
import { SCOPES } from '../../src/domain/scopes.js'
import { buildAdminApp } from './accounts.js'
import { registerClient, tokenRequest } from './clients.js'
import { createUser } from './factories.js'
import { pageClient, signInPage } from './pages.js'

export const REDIRECT = 'https://app.example.com/callback'
export const AFTER_LOGOUT = 'https://app.example.com/bye'

/** A PKCE pair (RFC 7636): a 43-character verifier and its S256 challenge. */
export function pkce() {
  const verifier = randomBytes(32).toString('base64url')
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') }
}

/**
 * A test app with an admin, a registered client and a user signed in on the
 * hosted page. The user has consented to every scope the client allows,
 * unless `consented: false` (then a third-party client gets the consent page).
 */
export async function oidcSetup(
  overrides: Partial<Config> = {},
  client: Record<string, unknown> = {},
  { consented = true }: { consented?: boolean } = {},
) {
  const t = await buildAdminApp(overrides)
  const registered = await registerClient(t.app, t.admin.headers, {
    name: 'Example App',
    type: 'public',
    redirect_uris: [REDIRECT],
    post_logout_redirect_uris: [AFTER_LOGOUT],
    ...client,
  })
  const user = await createUser(t.app, { username: `u${randomBytes(4).toString('hex')}` })
  if (consented) {
    const deps = await createDeps(t.config, { database: t.database, clock: t.clock })
    try {
      const found = await deps.services.clients.get(registered.client_id)
      await deps.services.consents.grant(user, found, [...SCOPES])
    } finally {
      await deps.close()
    }
  }
  const browser = pageClient(t.app, t.config.publicUrl)
  await signInPage(browser, user)
  return { ...t, client: registered, user, browser }
}

/** The authorization endpoint's URL for these parameters. */
export const authorizeUrl = (params: Record<string, string>) =>
  `/oauth/authorize?${new URLSearchParams(params)}`

/** The query of a redirect answer's Location. */
export function redirectQuery(res: { statusCode: number; headers: Record<string, unknown> }) {
  expect(res.statusCode).toBeGreaterThanOrEqual(302)
  expect(res.statusCode).toBeLessThanOrEqual(303)
  const url = new URL(String(res.headers.location))
  return { url, query: Object.fromEntries(url.searchParams) }
}

/** Asks for a code in the signed-in browser; returns it with the verifier that spends it. */
export async function getCode(
  browser: ReturnType<typeof pageClient>,
  clientId: string,
  over: Record<string, string> = {},
) {
  const { verifier, challenge } = pkce()
  const res = await browser.get(
    authorizeUrl({
      client_id: clientId,
      redirect_uri: REDIRECT,
      response_type: 'code',
      scope: 'openid profile email',
      state: 'st-1',
      nonce: 'nonce-1',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      ...over,
    }),
  )
  const { query } = redirectQuery(res)
  expect(query.code, JSON.stringify(query)).toBeTypeOf('string')
  return { code: query.code as string, verifier, query }
}

/** grant_type=authorization_code at the token endpoint. */
export const exchangeCode = (
  app: FastifyInstance,
  fields: Record<string, string>,
  headers: Record<string, string> = {},
) =>
  app.inject(
    tokenRequest({ grant_type: 'authorization_code', redirect_uri: REDIRECT, ...fields }, headers),
  )
