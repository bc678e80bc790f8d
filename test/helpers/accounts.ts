import type { FastifyInstance } from 'fastify'
import type { BuildOptions } from '../../src/app.js'
import type { Config } from '../../src/config.js'
import { createDeps } from '../../src/deps.js'
import { buildTestApp, type TestApp } from './app.js'
import { loginAs } from './factories.js'

export const ADMIN = { email: 'root@example.com', password: 'Root-Pass-4f9c-2026' }

/** A test app whose FIRST_SUPERUSER is ADMIN, with the admin logged in. */
export async function buildAdminApp(overrides: Partial<Config> = {}, options: BuildOptions = {}) {
  const t = await buildTestApp(
    { firstSuperuserEmail: ADMIN.email, firstSuperuserPassword: ADMIN.password, ...overrides },
    options,
  )
  const admin = await loginAs(t.app, ADMIN)
  const me = await t.app.inject({ method: 'GET', url: '/api/v1/users/me', headers: admin.headers })
  return { ...t, admin: { ...admin, id: me.json().id as string } }
}

/** A reset link issued through the service, as `keygate reset-link` does, on the test's database. */
export async function issueResetLink(t: TestApp, email: string): Promise<string | undefined> {
  const deps = await createDeps(t.config, { database: t.database, clock: t.clock })
  try {
    return await deps.services.passwordReset.issueLink(email)
  } finally {
    await deps.close()
  }
}

export const tokenOf = (link: string): string => new URL(link).searchParams.get('token') ?? ''

/** The status of GET /users/me with these headers: 200 while the token works. */
export async function meStatus(app: FastifyInstance, headers: Record<string, string>) {
  const res = await app.inject({ method: 'GET', url: '/api/v1/users/me', headers })
  return res.statusCode
}
