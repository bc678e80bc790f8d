import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Client } from '../../src/domain/client.js'
import { SCOPES } from '../../src/domain/scopes.js'
import { AUTHORIZE_ERRORS } from '../../src/errors.js'
import {
  type AuthorizeParams,
  checkAuthorizationRequest,
  errorRedirect,
  toAuthorizeParams,
} from '../../src/services/oidc/authorization-request.js'

const REDIRECT = 'https://app.example.com/callback'
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'
const ISSUER = 'https://auth.example.com'

const client: Client = {
  client_id: 'app-1',
  name: 'App',
  type: 'public',
  redirect_uris: [REDIRECT, 'com.example.app:/cb'],
  post_logout_redirect_uris: [],
  grant_types: ['authorization_code', 'refresh_token'],
  scopes: ['openid', 'profile', 'email', 'offline_access'],
  first_party: false,
  created_at: new Date(0),
  updated_at: new Date(0),
}
const exact = (registered: string[], presented: string) => registered.includes(presented)
const check = (params: Record<string, string | string[]>, c: Client | null = client) =>
  checkAuthorizationRequest(
    Object.fromEntries(
      Object.entries(params).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]),
    ) as AuthorizeParams,
    { client: c ?? undefined, redirectUriMatches: exact },
  )
const valid = {
  client_id: 'app-1',
  redirect_uri: REDIRECT,
  response_type: 'code',
  code_challenge: CHALLENGE,
  code_challenge_method: 'S256',
  scope: 'openid profile',
  state: 'st',
  nonce: 'n-0S6',
}
const without = (key: keyof typeof valid) => {
  const { [key]: _, ...rest } = valid
  return rest
}
const refusal = (params: Record<string, string | string[]>) => {
  const r = check(params)
  return r.kind === 'redirect' ? r.error : r.kind
}

describe('checkAuthorizationRequest', () => {
  it('accepts a complete request and keeps what the code must be bound to', () => {
    const r = check({ ...valid, prompt: 'login', max_age: '300', login_hint: 'ann' })
    expect(r).toEqual({
      kind: 'ok',
      request: {
        client,
        redirectUri: REDIRECT,
        state: 'st',
        scopes: ['openid', 'profile'],
        nonce: 'n-0S6',
        codeChallenge: CHALLENGE,
        prompt: ['login'],
        maxAge: 300,
        loginHint: 'ann',
      },
    })
  })

  it('never redirects for an unknown client or an unregistered redirect URI', () => {
    expect(check(valid, null)).toEqual({ kind: 'page', error: 'AUTHORIZE_UNKNOWN_CLIENT' })
    expect(check(without('client_id'))).toMatchObject({ kind: 'page' })
    expect(check({ ...valid, client_id: ['app-1', 'app-1'] })).toMatchObject({ kind: 'page' })
    for (const uri of [
      'https://app.example.com/callback/',
      'https://app.example.com/callback?x=1',
      'https://evil.example/callback',
      'HTTPS://app.example.com/callback',
    ]) {
      expect(check({ ...valid, redirect_uri: uri })).toEqual({
        kind: 'page',
        error: 'AUTHORIZE_BAD_REDIRECT_URI',
      })
    }
    expect(check(without('redirect_uri'))).toMatchObject({ kind: 'page' })
    expect(check({ ...valid, redirect_uri: [REDIRECT, REDIRECT] })).toMatchObject({ kind: 'page' })
  })

  it('refuses the rest back to the redirect URI, in RFC 6749 §4.1.2.1 terms', () => {
    expect(refusal({ ...valid, response_type: 'token' })).toBe('UNSUPPORTED_RESPONSE_TYPE')
    expect(refusal({ ...valid, response_type: 'code id_token' })).toBe('UNSUPPORTED_RESPONSE_TYPE')
    expect(refusal(without('response_type'))).toBe('UNSUPPORTED_RESPONSE_TYPE')
    expect(refusal(without('code_challenge'))).toBe('PKCE_REQUIRED')
    expect(refusal(without('code_challenge_method'))).toBe('PKCE_REQUIRED')
    expect(refusal({ ...valid, code_challenge_method: 'plain' })).toBe('PKCE_METHOD')
    expect(refusal({ ...valid, code_challenge: 'short' })).toBe('BAD_CODE_CHALLENGE')
    expect(refusal({ ...valid, scope: 'openid wheel' })).toBe('INVALID_SCOPE')
    expect(refusal({ ...valid, scope: 'openid "x"' })).toBe('INVALID_SCOPE')
    expect(refusal({ ...valid, state: ['a', 'b'] })).toBe('DUPLICATE_PARAMETER')
    expect(refusal({ ...valid, prompt: 'none login' })).toBe('BAD_PROMPT')
    expect(refusal({ ...valid, prompt: 'select_account' })).toBe('BAD_PROMPT')
    expect(refusal({ ...valid, max_age: '-1' })).toBe('BAD_MAX_AGE')
    expect(refusal({ ...valid, response_mode: 'fragment' })).toBe('BAD_RESPONSE_MODE')
    expect(refusal({ ...valid, request: 'eyJ...' })).toBe('REQUEST_NOT_SUPPORTED')
    expect(refusal({ ...valid, request_uri: 'https://x' })).toBe('REQUEST_URI_NOT_SUPPORTED')
    const noCode = { ...client, grant_types: ['client_credentials' as const] }
    expect(check(valid, noCode)).toMatchObject({ kind: 'redirect', error: 'UNAUTHORIZED_CLIENT' })
  })

  it('an error redirect carries error, error_description, state and iss (RFC 9207)', () => {
    const r = check({ ...valid, code_challenge_method: 'plain' })
    if (r.kind !== 'redirect') throw new Error('expected a redirect')
    const url = new URL(errorRedirect(r, ISSUER))
    expect(`${url.origin}${url.pathname}`).toBe(REDIRECT)
    expect(Object.fromEntries(url.searchParams)).toEqual({
      error: 'invalid_request',
      error_description: AUTHORIZE_ERRORS.PKCE_METHOD.error_description,
      state: 'st',
      iss: ISSUER,
    })
  })

  it('reads repeated and empty parameters as RFC 6749 §3.1 says', () => {
    const params = toAuthorizeParams(new URLSearchParams('a=1&a=2&b=&c=3'))
    expect({ ...params }).toEqual({ a: ['1', '2'], c: ['3'] })
  })
})

// Any parameter set at all: what must hold whatever a client (or attacker) sends.
const paramName = fc.constantFrom(
  ...Object.keys(valid),
  'prompt',
  'max_age',
  'login_hint',
  'response_mode',
  'request',
  'extra',
)
const paramValue = fc.oneof(
  fc.constantFrom(
    ...Object.values(valid),
    'plain',
    'token',
    'none',
    'login consent',
    'none login',
    '0',
    '-5',
    'openid wheel',
    ...SCOPES,
    'https://evil.example/cb',
  ),
  fc.string({ maxLength: 60 }),
)
const mutation = fc.array(
  fc.tuple(
    paramName,
    fc.oneof(
      fc.constant(undefined),
      paramValue,
      fc.array(paramValue, { minLength: 2, maxLength: 3 }),
    ),
  ),
  { maxLength: 6 },
)
const mutate = (changes: [string, string | string[] | undefined][]) => {
  const params: Record<string, string | string[]> = { ...valid }
  for (const [k, v] of changes) {
    if (v === undefined) delete params[k]
    else params[k] = v
  }
  return params
}

describe('checkAuthorizationRequest (properties)', () => {
  it('redirects only to the exact registered URI that was presented once', () => {
    fc.assert(
      fc.property(mutation, (changes) => {
        const params = mutate(changes)
        const r = check(params)
        if (r.kind === 'page') return
        const presented = params.redirect_uri
        expect(presented).toBe(r.kind === 'ok' ? r.request.redirectUri : r.redirectUri)
        expect(client.redirect_uris).toContain(presented)
      }),
      { numRuns: 500 },
    )
  })

  it('accepts only code + S256 PKCE + known scopes + no repeats, and returns state as sent', () => {
    fc.assert(
      fc.property(mutation, (changes) => {
        const params = mutate(changes)
        const r = check(params)
        const state = params.state
        if (r.kind === 'redirect' && typeof state === 'string') expect(r.state).toBe(state)
        if (r.kind !== 'ok') return
        expect(params.response_type).toBe('code')
        expect(params.code_challenge_method).toBe('S256')
        expect(r.request.codeChallenge).toMatch(/^[A-Za-z0-9_-]{43}$/)
        for (const v of Object.values(params)) expect(Array.isArray(v)).toBe(false)
        for (const s of r.request.scopes) expect(SCOPES).toContain(s)
        if (typeof state === 'string' && state !== '') expect(r.request.state).toBe(state)
        if (r.request.prompt.includes('none')) expect(r.request.prompt).toEqual(['none'])
      }),
      { numRuns: 500 },
    )
  })

  it('never redirects for a client that is not the registered one', () => {
    fc.assert(
      fc.property(mutation, fc.string({ maxLength: 20 }), (changes, id) => {
        const params = { ...mutate(changes), client_id: id }
        if (id === client.client_id) return
        expect(check(params).kind).toBe('page')
        expect(check(params, null).kind).toBe('page')
      }),
      { numRuns: 300 },
    )
  })
})
