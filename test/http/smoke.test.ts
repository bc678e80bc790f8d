import { describe, expect, it } from 'vitest'
import { buildTestApp } from '../helpers/app.js'
import { createUser, loginAs } from '../helpers/factories.js'

describe('smoke', () => {
  it('signs up, logs in and reads /users/me', async () => {
    const { app } = await buildTestApp()
    const user = await createUser(app)
    const { headers } = await loginAs(app, user)
    const me = await app.inject({ method: 'GET', url: '/api/v1/users/me', headers })
    expect(me.statusCode).toBe(200)
    expect(me.json().email).toBe(user.email)
  })
})
