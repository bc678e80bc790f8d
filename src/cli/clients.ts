import { parseArgs } from 'node:util'
import type { Client, GrantType } from '../domain/client.js'
import { KeygateError, ValidationError } from '../errors.js'
import type { ClientWithSecret } from '../services/oauth/clients.js'
import { type Command, type CommandContext, printJson } from './command.js'
import { withDeps } from './compose.js'

const USAGE = `keygate clients create NAME --type public|confidential [--redirect-uri URI]... [--post-logout-redirect-uri URI]... [--grant-type G]... [--scope S]... [--first-party] [--json]
       keygate clients list [--json]
       keygate clients delete CLIENT_ID [--json]
       keygate clients rotate-secret CLIENT_ID [--json]`

const CREATE_OPTIONS = {
  type: { type: 'string' },
  'redirect-uri': { type: 'string', multiple: true },
  'post-logout-redirect-uri': { type: 'string', multiple: true },
  'grant-type': { type: 'string', multiple: true },
  scope: { type: 'string', multiple: true },
  'first-party': { type: 'boolean' },
  json: { type: 'boolean' },
} as const

class UsageError extends Error {}

/** The public view of a client, as the API's ClientOut shows it. */
const view = (c: Client) => ({
  ...c,
  created_at: c.created_at.toISOString(),
  updated_at: c.updated_at.toISOString(),
})

function printClient(ctx: CommandContext, result: ClientWithSecret, json: boolean) {
  const { client, client_secret } = result
  if (json) {
    printJson(ctx.stdout, { ...view(client), ...(client_secret && { client_secret }) })
    return
  }
  ctx.stdout.write(`client_id      ${client.client_id}\n`)
  if (client_secret) {
    // Shown once: Keygate keeps only its hash.
    ctx.stdout.write(`client_secret  ${client_secret}\n`)
    ctx.stderr.write(
      'Store the secret now: it cannot be shown again (rotate-secret makes a new one).\n',
    )
  }
}

function parseCreate(args: string[]) {
  const { values, positionals } = parseArgs({
    args,
    options: CREATE_OPTIONS,
    allowPositionals: true,
    strict: true,
  })
  if (positionals.length !== 1) throw new UsageError('expected exactly one NAME')
  if (values.type !== 'public' && values.type !== 'confidential') {
    throw new UsageError('--type must be public or confidential')
  }
  return {
    json: values.json === true,
    input: {
      name: positionals[0] as string,
      type: values.type,
      redirect_uris: values['redirect-uri'],
      post_logout_redirect_uris: values['post-logout-redirect-uri'],
      grant_types: values['grant-type'] as GrantType[] | undefined,
      scopes: values.scope,
      first_party: values['first-party'] === true,
    },
  } as const
}

/** `list`, `delete ID`, `rotate-secret ID`: an optional id and --json. */
function parseSimple(args: string[], wantsId: boolean) {
  const { values, positionals } = parseArgs({
    args,
    options: { json: { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  })
  if (positionals.length !== (wantsId ? 1 : 0)) {
    throw new UsageError(wantsId ? 'expected exactly one CLIENT_ID' : 'unexpected argument')
  }
  return { id: positionals[0] ?? '', json: values.json === true }
}

export const clientsCommand: Command = {
  summary: 'Register, list, delete registered OAuth clients, or rotate a secret',
  usage: `${USAGE}

  create          register a client; a confidential one's secret is printed once
                  (defaults: grant types authorization_code + refresh_token,
                  scopes openid profile email offline_access, not first-party)
  list            every client, the built-in keygate first
  delete          delete a client and revoke every token issued to it
  rotate-secret   a new secret for a confidential client; the old one dies at once
  --json          print the result as one JSON object`,
  async run(ctx) {
    const [action, ...rest] = ctx.args
    try {
      if (action === 'create') {
        const { input, json } = parseCreate(rest)
        return await withService(ctx, async (clients) => {
          printClient(ctx, await clients.create(input), json)
        })
      }
      if (action === 'list') {
        const { json } = parseSimple(rest, false)
        return await withService(ctx, async (clients) => {
          const items = (await clients.list()).map(view)
          if (json) printJson(ctx.stdout, { items, total: items.length })
          else
            for (const c of items)
              ctx.stdout.write(`${c.client_id}\t${c.type}\t${c.grant_types.join(',')}\t${c.name}\n`)
        })
      }
      if (action === 'delete') {
        const { id, json } = parseSimple(rest, true)
        return await withService(ctx, async (clients) => {
          await clients.delete(id)
          if (json) printJson(ctx.stdout, { deleted: id })
          else ctx.stdout.write(`deleted client ${id}; its tokens are revoked\n`)
        })
      }
      if (action === 'rotate-secret') {
        const { id, json } = parseSimple(rest, true)
        return await withService(ctx, async (clients) => {
          printClient(ctx, await clients.rotateSecret(id), json)
        })
      }
    } catch (err) {
      if (
        !(
          err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
        )
      ) {
        throw err
      }
      ctx.stderr.write(`keygate clients: ${(err as Error).message}\n`)
    }
    ctx.stderr.write(`Usage: ${USAGE}\n`)
    return 2
  },
}

type ClientsService = Parameters<Parameters<typeof withDeps>[1]>[0]['services']['clients']

/** Runs one service call; the refusals the API answers (404, 409, 422) are a line on stderr and exit 1. */
async function withService(
  ctx: CommandContext,
  work: (clients: ClientsService) => Promise<void>,
): Promise<number> {
  return withDeps(ctx.config(), async (deps) => {
    try {
      await work(deps.services.clients)
      return 0
    } catch (err) {
      if (err instanceof KeygateError) ctx.stderr.write(`keygate clients: ${err.detail}\n`)
      else if (err instanceof ValidationError) {
        const lines = err.issues.map(
          (i) => `${i.field}${i.index === undefined ? '' : `[${i.index}]`}: ${i.msg}`,
        )
        ctx.stderr.write(`keygate clients: ${lines.join('; ')}\n`)
      } else throw err
      return 1
    }
  })
}
