import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../src/config.js'

describe('account settings', () => {
  it('reads the defaults and the variables', () => {
    const d = loadConfig({})
    expect(d).toMatchObject({ passwordMinLength: 8, passwordResetExpireMinutes: 30 })
    expect(d.smtpUrl).toBeUndefined()
    const c = loadConfig({
      PASSWORD_MIN_LENGTH: '15',
      PASSWORD_RESET_EXPIRE_MINUTES: '10',
      SMTP_URL: 'smtp://mail.example.com:2525',
      MAIL_FROM: 'Keygate <auth@example.com>',
      FIRST_SUPERUSER_EMAIL: 'root@example.com',
      FIRST_SUPERUSER_PASSWORD: 'whatever-it-is',
    })
    expect(c).toMatchObject({
      passwordMinLength: 15,
      passwordResetExpireMinutes: 10,
      smtpUrl: 'smtp://mail.example.com:2525',
      mailFrom: 'Keygate <auth@example.com>',
      firstSuperuserEmail: 'root@example.com',
    })
  })

  it.each([
    [{ FIRST_SUPERUSER_EMAIL: 'root', FIRST_SUPERUSER_PASSWORD: 'x' }, 'FIRST_SUPERUSER_EMAIL: '],
    [{ FIRST_SUPERUSER_EMAIL: 'root@example.com' }, 'FIRST_SUPERUSER_PASSWORD: '],
    [{ SMTP_URL: 'http://mail.example.com' }, 'SMTP_URL: '],
    [{ PASSWORD_RESET_EXPIRE_MINUTES: '0' }, 'PASSWORD_RESET_EXPIRE_MINUTES: '],
  ])('refuses %j with one line naming the variable', (env, prefix) => {
    expect(() => loadConfig(env)).toThrow(ConfigError)
    expect(() => loadConfig(env)).toThrow(new RegExp(`^${prefix}`))
  })
})
