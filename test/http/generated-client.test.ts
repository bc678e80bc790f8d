import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import openapiTS from 'openapi-typescript'
import { describe, expect, it, onTestFinished } from 'vitest'
import { listeningApp } from '../helpers/server.js'

const run = promisify(execFile)
const ROOT = fileURLToPath(new URL('../..', import.meta.url))

// A program written against the generated types, as a client author would:
// tsc must accept it (and each @ts-expect-error must be an error), then it runs.
const CLIENT = `import createClient from 'openapi-fetch'
import type { components, paths } from './schema.js'

type User = components['schemas']['User']
type Problem = components['schemas']['ValidationError']

const client = createClient<paths>({ baseUrl: process.argv[2] })
const email = \`gen-\${Date.now()}@example.com\`
const password = 'a-generated-client-password'

const signup = await client.POST('/api/v1/auth/signup', { body: { email, password } })
const user: User | undefined = signup.data

const token = await client.POST('/api/v1/auth/token', {
  body: { username: email, password, grant_type: 'password' },
  bodySerializer: (body) => new URLSearchParams(body as Record<string, string>),
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
})
const bearer = { headers: { authorization: \`Bearer \${token.data?.access_token}\` } }

const created = await client.POST('/api/v1/posts', { body: { title: 'typed' }, ...bearer })
const list = await client.GET('/api/v1/posts', { params: { query: { limit: 5 } } })
const titles: string[] = list.data?.items.map((p) => p.title) ?? []
const me = await client.GET('/api/v1/users/me', bearer)
const bad = await client.POST('/api/v1/auth/signup', { body: { email: 'nope', password } })
const problem = bad.response.status === 422 ? (bad.error as Problem) : undefined

// The types refuse what the server would refuse.
// @ts-expect-error a post needs a title
void client.POST('/api/v1/posts', { body: { content: 'no title' }, ...bearer })
// @ts-expect-error signup needs a password and has no name
void client.POST('/api/v1/auth/signup', { body: { email, name: 'x' } })
// @ts-expect-error no such path
void client.GET('/api/v1/post')

console.log(JSON.stringify({
  signup: signup.response.status,
  userEmail: user?.email,
  token: token.response.status,
  tokenType: token.data?.token_type,
  created: created.response.status,
  owner: created.data?.owner_id === user?.id,
  titles,
  me: me.data?.id === user?.id,
  badStatus: bad.response.status,
  loc: problem?.detail[0]?.loc,
}))
`

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: ['node'],
    lib: ['ES2023', 'DOM'],
  },
  files: ['client.ts', 'schema.d.ts'],
}

describe('a TypeScript client generated from /openapi.json', () => {
  it('type-checks signup, token and posts calls, and works against a running Keygate', async () => {
    const { base } = await listeningApp()
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as Exclude<
      Parameters<typeof openapiTS>[0],
      string
    >

    // Under node_modules/, so the generated file resolves openapi-fetch and @types/node.
    mkdirSync(join(ROOT, 'node_modules/.cache'), { recursive: true })
    const dir = mkdtempSync(join(ROOT, 'node_modules/.cache/keygate-client-'))
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
    writeFileSync(join(dir, 'schema.d.ts'), await openapiTS(doc))
    writeFileSync(join(dir, 'client.ts'), CLIENT)
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(TSCONFIG))
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}')

    const tsc = await run(join(ROOT, 'node_modules/.bin/tsc'), ['-p', dir]).catch((e) => e)
    expect(`${tsc.stdout}${tsc.stderr}`).toBe('')

    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'client.ts', base], {
      cwd: dir,
    })
    expect(JSON.parse(stdout)).toEqual({
      signup: 201,
      userEmail: expect.stringMatching(/^gen-\d+@example\.com$/),
      token: 200,
      tokenType: 'bearer',
      created: 201,
      owner: true,
      titles: ['typed'],
      me: true,
      badStatus: 422,
      loc: ['body', 'email'],
    })
  }, 60_000)
})
