import type { FastifyInstance } from 'fastify'
import { expect } from 'vitest'

export const CLIENTS = '/api/v1/clients'

export interface RegisteredClient {
  client_id: string
  client_secret?: string
  [key: string]: unknown
}

/** Registers a client through the superuser API; 201 expected. */
export async function registerClient(
  app: FastifyInstance,
  admin: { authorization: string },
  body: Record<string, unknown>,
): Promise<RegisteredClient> {
  const res = await app.inject({ method: 'POST', url: CLIENTS, headers: admin, payload: body })
  expect(res.statusCode, res.body).toBe(201)
  return res.json()
}

/** A token-endpoint request: the form, and optional headers (a Basic header). */
export const tokenRequest = (
  fields: Record<string, string>,
  headers: Record<string, string> = {},
) => ({
  method: 'POST' as const,
  url: '/api/v1/auth/token',
  payload: new URLSearchParams(fields).toString(),
  headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
})

/** RFC 6749 §2.3.1: id and secret form-urlencoded, then base64. */
export const basicAuth = (id: string, secret: string) => ({
  authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`,
})
