import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config.js'
import { buildTestApp } from '../helpers/app.js'
import { createUser, form, loginAs, randomEmail } from '../helpers/factories.js'
import { must } from '../helpers/must.js'
import { enableTotp } from '../helpers/totp.js'

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return must(s[Math.floor(s.length / 2)], 'a sample')
}

describe('enumeration by timing with a second factor (SPEC §9)', () => {
  it('a wrong password on a factor account takes as long as an unknown account; only the right password reveals the factor', async () => {
    const { app, clock } = await buildTestApp({
      argon2: loadConfig({}).argon2,
      hashConcurrency: 1,
    })
    const user = await createUser(app)
    const { headers } = await loginAs(app, user)
    await enableTotp(app, clock, headers, user.password)
    const time = async (login: string, password: string, status: number) => {
      const start = process.hrtime.bigint()
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/token',
        ...form({ username: login, password }),
      })
      expect(res.statusCode).toBe(status)
      return Number(process.hrtime.bigint() - start) / 1e6
    }
    await time(randomEmail(), 'not-the-password', 400)
    await time(user.email, 'not-the-password', 400)
    await time(user.email, user.password, 403)
    const wrong: number[] = []
    const unknown: number[] = []
    const right: number[] = []
    for (let i = 0; i < 11; i++) {
      wrong.push(await time(user.email, 'not-the-password', 400))
      unknown.push(await time(randomEmail(), 'not-the-password', 400))
      right.push(await time(user.email, user.password, 403))
    }
    const detail = `unknown ${median(unknown)} ms, wrong ${median(wrong)} ms, right+factor ${median(right)} ms`
    const ratio = median(unknown) / median(wrong)
    expect(ratio, detail).toBeGreaterThan(0.5)
    expect(ratio, detail).toBeLessThan(2)
    // A verification dominates every case, the right password's too.
    expect(median(wrong), detail).toBeGreaterThan(5)
    expect(median(right) / median(wrong), detail).toBeLessThan(3)
  }, 120_000)
})
