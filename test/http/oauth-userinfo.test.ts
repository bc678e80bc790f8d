import { describe, expect, it } from 'vitest'
import { buildTestApp } from '../helpers/app.js'
import { createUser, form } from '../helpers/factories.js'

describe('UserInfo (/oauth/userinfo)', () => {
  it('answers sub and the claims the token’s scopes release, on GET and POST', async () => {
    const { app } = await buildTestApp()
    const user = await createUser(app, { username: 'info-user' })
    const token = async (scope: string) =>
      (
        await app.inject({
          method: 'POST',
          url: '/api/v1/auth/token',
          ...form({ username: user.email, password: user.password, scope }),
        })
      ).json().access_token as string
    const get = (access: string, method: 'GET' | 'POST' = 'GET') =>
      app.inject({ method, url: '/oauth/userinfo', headers: { authorization: `Bearer ${access}` } })

    const full = await token('openid profile email')
    for (const method of ['GET', 'POST'] as const) {
      const res = await get(full, method)
      expect(res.statusCode).toBe(200)
      expect(res.headers['cache-control']).toBe('no-store')
      expect(res.json()).toEqual({
        sub: user.id,
        preferred_username: 'info-user',
        email: user.email,
        email_verified: false,
      })
    }
    expect((await get(await token('openid'))).json()).toEqual({ sub: user.id })
    const noOpenid = await get(await token('email'))
    expect(noOpenid.statusCode).toBe(403)
    expect(noOpenid.headers['www-authenticate']).toContain('scope="openid"')
    const anonymous = await app.inject({ method: 'GET', url: '/oauth/userinfo' })
    expect(anonymous.statusCode).toBe(401)
  })
})
