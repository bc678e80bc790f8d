import { decodeJwt } from 'jose'
import { describe, expect, it } from 'vitest'
import { createDatabase } from '../../src/db/database.js'
import { buildTestApp } from '../helpers/app.js'
import { cliEnv, runKeygate } from '../helpers/cli.js'
import { basicAuth, tokenRequest } from '../helpers/clients.js'

describe('keygate clients', () => {
  it('create (secret once), list, rotate-secret, delete, against the served token endpoint', async () => {
    const { env, databaseUrl } = cliEnv()
    const created = await runKeygate(
      [
        'clients',
        'create',
        'Billing service',
        '--type',
        'confidential',
        '--grant-type',
        'client_credentials',
        '--scope',
        'posts:write',
        '--json',
      ],
      env,
    )
    expect(created.code, created.stderr).toBe(0)
    const client = JSON.parse(created.stdout)
    expect(client).toMatchObject({
      name: 'Billing service',
      type: 'confidential',
      grant_types: ['client_credentials'],
      scopes: ['posts:write'],
      first_party: false,
    })
    expect(client.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/)

    const { app } = await buildTestApp({}, { database: createDatabase(databaseUrl) })
    const cc = (secret: string) =>
      app.inject(
        tokenRequest({ grant_type: 'client_credentials' }, basicAuth(client.client_id, secret)),
      )
    const ok = await cc(client.client_secret)
    expect(ok.statusCode, ok.body).toBe(200)
    expect(decodeJwt(ok.json().access_token).sub).toBe(client.client_id)

    const list = await runKeygate(['clients', 'list', '--json'], env)
    expect(list.code, list.stderr).toBe(0)
    const listed = JSON.parse(list.stdout)
    expect(listed.items.map((c: { client_id: string }) => c.client_id)).toEqual([
      'keygate',
      client.client_id,
    ])
    expect(list.stdout).not.toContain(client.client_secret)
    const plain = await runKeygate(['clients', 'list'], env)
    expect(plain.stdout).toContain(
      `${client.client_id}\tconfidential\tclient_credentials\tBilling service`,
    )

    const rotated = await runKeygate(['clients', 'rotate-secret', client.client_id], env)
    expect(rotated.code, rotated.stderr).toBe(0)
    const [, secret] = /client_secret\s+(\S+)/.exec(rotated.stdout) ?? []
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(rotated.stderr).toContain('cannot be shown again')
    expect((await cc(client.client_secret)).statusCode).toBe(401)
    expect((await cc(secret as string)).statusCode).toBe(200)

    const deleted = await runKeygate(['clients', 'delete', client.client_id, '--json'], env)
    expect(deleted.code, deleted.stderr).toBe(0)
    expect(JSON.parse(deleted.stdout)).toEqual({ deleted: client.client_id })
    expect((await cc(secret as string)).statusCode).toBe(401)
    const again = await runKeygate(['clients', 'delete', client.client_id], env)
    expect(again.code).toBe(1)
    expect(again.stderr).toBe('keygate clients: Client not found\n')
  })

  it('refusals: registration rules (exit 1, naming the field), the built-in client, bad usage (exit 2)', async () => {
    const { env } = cliEnv()
    const http = await runKeygate(
      ['clients', 'create', 'App', '--type', 'public', '--redirect-uri', 'http://example.com/cb'],
      env,
    )
    expect(http.code).toBe(1)
    expect(http.stderr).toMatch(/^keygate clients: redirect_uris\[0\]: .*loopback/)
    const missing = await runKeygate(['clients', 'create', 'App', '--type', 'public'], env)
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('redirect_uris: Field required')
    const builtin = await runKeygate(['clients', 'delete', 'keygate'], env)
    expect(builtin.code).toBe(1)
    expect(builtin.stderr).toContain('cannot be changed or deleted')
    for (const args of [
      ['clients'],
      ['clients', 'frobnicate'],
      ['clients', 'create', 'App'],
      ['clients', 'create', 'App', '--type', 'secret'],
      ['clients', 'create', 'App', '--type', 'public', '--bogus'],
      ['clients', 'delete'],
    ]) {
      const res = await runKeygate(args, env)
      expect(res.code, args.join(' ')).toBe(2)
      expect(res.stderr).toContain('Usage: keygate clients')
    }
    const pub = await runKeygate(
      [
        'clients',
        'create',
        'SPA',
        '--type',
        'public',
        '--redirect-uri',
        'https://spa.example.com/cb',
      ],
      env,
    )
    expect(pub.code, pub.stderr).toBe(0)
    expect(pub.stdout).toMatch(/^client_id\s+\S+\n$/)
  })
})
