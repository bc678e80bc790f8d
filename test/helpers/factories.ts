import { randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { expect } from 'vitest'

export interface TestUser {
  id: string
  email: string
  username: string | null
  password: string
}

export interface Tokens {
  access_token: string
  refresh_token: string
  token_type: string
  expires_in: number
  scope: string
}

export const randomEmail = () => `user-${randomBytes(5).toString('hex')}@example.com`
export const strongPassword = () => `Pw-${randomBytes(9).toString('base64url')}`

/** Signs a user up through the API. */
export async function createUser(
  app: FastifyInstance,
  over: { email?: string; password?: string; username?: string } = {},
): Promise<TestUser> {
  const body = {
    email: over.email ?? randomEmail(),
    password: over.password ?? strongPassword(),
    username: over.username,
  }
  const res = await app.inject({ method: 'POST', url: '/api/v1/auth/signup', payload: body })
  expect(res.statusCode, res.body).toBe(201)
  const user = res.json()
  return { id: user.id, email: user.email, username: user.username, password: body.password }
}

/** Logs in through the OAuth2 token endpoint; returns ready-made bearer headers. */
export async function loginAs(
  app: FastifyInstance,
  user: { email: string; password: string },
): Promise<{ headers: { authorization: string }; tokens: Tokens }> {
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/token',
    payload: new URLSearchParams({ username: user.email, password: user.password }).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  })
  expect(res.statusCode, res.body).toBe(200)
  const tokens = res.json() as Tokens
  return { headers: { authorization: `Bearer ${tokens.access_token}` }, tokens }
}

export async function createPost(
  app: FastifyInstance,
  headers: Record<string, string>,
  over: { title?: string; content?: string; published?: boolean } = {},
) {
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/posts',
    headers,
    payload: {
      title: over.title ?? 'Hello',
      content: over.content ?? 'World',
      published: over.published,
    },
  })
  expect(res.statusCode, res.body).toBe(201)
  return res.json()
}

export const form = (fields: Record<string, string>) => ({
  payload: new URLSearchParams(fields).toString(),
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
})
