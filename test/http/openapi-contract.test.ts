import { describe, expect, it } from 'vitest'
import { routeScopes } from '../../src/http/plugins/scope-check.js'
import { buildTestApp } from '../helpers/app.js'
import { createPost, createUser, loginAs } from '../helpers/factories.js'

type Response = { description?: string; content?: Record<string, { schema: unknown }> }
type Operation = { operationId?: string; responses: Record<string, Response>; security?: unknown }

async function openapi() {
  const { app } = await buildTestApp()
  const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json()
  const operations: [string, string, Operation][] = Object.entries(
    doc.paths as Record<string, Record<string, Operation>>,
  ).flatMap(([path, ops]) => Object.entries(ops).map(([m, op]) => [m, path, op] as const))
  return { app, doc, operations }
}

describe('the OpenAPI contract that clients are generated from', () => {
  it('gives every operation a stable, unique operationId', async () => {
    const { operations } = await openapi()
    const ids = operations.map(([, , op]) => op.operationId)
    expect(ids.every((id) => typeof id === 'string' && /^[a-z][a-z0-9_]*$/.test(id))).toBe(true)
    expect(new Set(ids).size).toBe(ids.length)
    const byRoute = Object.fromEntries(
      operations.map(([m, p, op]) => [`${m} ${p}`, op.operationId]),
    )
    expect(byRoute).toMatchObject({
      'post /api/v1/auth/signup': 'auth_signup',
      'post /api/v1/auth/token': 'auth_token',
      'post /api/v1/auth/refresh': 'auth_refresh',
      'get /api/v1/users/me': 'users_me_get',
      'patch /api/v1/users/me': 'users_me_update',
      'get /api/v1/users': 'users_list',
      'get /api/v1/posts': 'posts_list',
      'post /api/v1/posts': 'posts_create',
      'delete /api/v1/posts/{id}': 'posts_delete',
      'get /readyz': 'health_ready',
    })
  })

  it('names User, Post, TokenResponse, Error, ValidationError and Session, and every route uses them', async () => {
    const { doc, operations } = await openapi()
    const names = ['User', 'Post', 'TokenResponse', 'Error', 'ValidationError', 'Session']
    for (const name of names) expect(doc.components.schemas[name], name).toBeDefined()
    const text = JSON.stringify(doc.paths)
    for (const name of names) expect(text).toContain(`"#/components/schemas/${name}"`)
    // No inline copy of a named schema is left: a generator would make a second type of it.
    for (const [method, path, op] of operations) {
      for (const [status, response] of Object.entries(op.responses)) {
        const schema = JSON.stringify(response.content?.['application/json']?.schema ?? {})
        if (Number(status) >= 400) expect(schema, `${method} ${path} ${status}`).toMatch(/\$ref/)
        expect(schema).not.toContain('"is_superuser":{"type"')
        expect(schema).not.toContain('"owner_id":{"type"')
      }
    }
  })

  it('documents every status a route can give, each with a description', async () => {
    const { operations } = await openapi()
    const statuses = (m: string, p: string) =>
      Object.keys(operations.find(([om, op]) => om === m && op === p)?.[2].responses ?? {})
    expect(statuses('post', '/api/v1/auth/signup')).toEqual(
      expect.arrayContaining(['201', '409', '413', '415', '422', '429', '503']),
    )
    expect(statuses('post', '/api/v1/auth/refresh')).toEqual(
      expect.arrayContaining(['200', '401', '413', '415', '422', '429', '503']),
    )
    expect(statuses('patch', '/api/v1/posts/{id}')).toEqual(
      expect.arrayContaining(['200', '401', '403', '404', '413', '415', '422', '503']),
    )
    expect(statuses('get', '/api/v1/users/{id}')).toEqual(
      expect.arrayContaining(['200', '401', '403', '404', '422', '503']),
    )
    for (const [method, path, op] of operations) {
      for (const [status, response] of Object.entries(op.responses)) {
        expect(response.description, `${method} ${path} ${status}`).toBeTruthy()
        expect(response.description).not.toBe('Default Response')
      }
    }
  })

  it('lists paths without a trailing slash, and requests with one still work', async () => {
    const { app, operations } = await openapi()
    for (const [, path] of operations) expect(path).not.toMatch(/.\/$/)
    const user = await createUser(app)
    const { headers } = await loginAs(app, user)
    await createPost(app, headers)
    for (const url of [
      '/api/v1/posts',
      '/api/v1/posts/',
      '/api/v1/users/me',
      '/api/v1/users/me/',
    ]) {
      const res = await app.inject({ method: 'GET', url, headers })
      expect(res.statusCode, url).toBe(200)
    }
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/posts/',
      headers,
      payload: { title: 'with a slash' },
    })
    expect(created.statusCode).toBe(201)
  })

  it("states each route's scope as its OAuth2 security requirement (SPEC §6)", async () => {
    const { app, doc, operations } = await openapi()
    const scheme = doc.components.securitySchemes.OAuth2PasswordBearer
    expect(Object.keys(scheme.flows.password.scopes)).toContain('posts:write')
    const documented = new Set(operations.map(([m, p]) => `${m} ${p}`))
    let scoped = 0
    for (const route of routeScopes(app)) {
      const path = route.url.replace(/:([a-z_]+)/g, '{$1}')
      const key = `${route.method.toLowerCase()} ${path}`
      if (!documented.has(key)) continue
      const op = operations.find(([m, p]) => `${m} ${p}` === key)?.[2]
      const requirements = (op?.security ?? []) as Record<string, string[]>[]
      const named = requirements.flatMap((r) => r.OAuth2PasswordBearer ?? [])
      if (route.scope === undefined) expect(named, key).toEqual([])
      else {
        scoped++
        expect(requirements, key).toEqual([{ OAuth2PasswordBearer: [route.scope] }])
        expect(Object.keys(op?.responses ?? {}), key).toContain('403')
      }
    }
    expect(scoped).toBeGreaterThan(10)
  })
})
