import { parseArgs } from 'node:util'
import { isValidEmail, isValidUsername } from '../domain/user.js'
import { KeygateError, ValidationError } from '../errors.js'
import { type Command, type CommandContext, printJson } from './command.js'
import { withDeps } from './compose.js'
import { PromptError, readNewPassword } from './prompt.js'

const USAGE = 'keygate create-user EMAIL [--username U] [--superuser] [--json]'

// A password in argv shows up in shell history and in every `ps` listing.
const PASSWORD_FLAG = /^(--password|--pass|--pw|-p)(=|$)/

export const createUserCommand: Command = {
  summary: 'Create a user; the password is typed at a prompt (no echo) or piped on stdin',
  usage: `${USAGE}

  --username U   optional username (3-32 letters, digits, "_", "." or "-")
  --superuser    make the user a superuser
  --json         print the created user as JSON (id, email, username, is_superuser)

The password is never taken from the command line: type it at the prompt, or
pipe it (first line of stdin), e.g. \`printf '%s\\n' "$PW" | keygate create-user a@b.c\`.`,
  async run(ctx) {
    if (ctx.args.some((a) => PASSWORD_FLAG.test(a))) {
      ctx.stderr.write(
        'keygate create-user: passwords are never accepted on the command line (they leak into shell history and the process list); type it at the prompt or pipe it on stdin\n',
      )
      return 2
    }
    let input: ReturnType<typeof parseCreateArgs>
    try {
      input = parseCreateArgs(ctx.args)
    } catch (err) {
      ctx.stderr.write(`keygate create-user: ${(err as Error).message}\nUsage: ${USAGE}\n`)
      return 2
    }
    const config = ctx.config()
    let password: string
    try {
      password = await readNewPassword(ctx.stdin, ctx.stderr)
    } catch (err) {
      if (!(err instanceof PromptError)) throw err
      ctx.stderr.write(`keygate create-user: ${err.message}\n`)
      return 1
    }
    if (password === '') {
      ctx.stderr.write(
        'keygate create-user: no password was read: stdin was empty (pipe one line, e.g. `printf \'%s\\n\' "$PW" | keygate create-user EMAIL`, or run it in a terminal to be prompted)\n',
      )
      return 1
    }
    if (password.length < config.passwordMinLength || password.length > 1024) {
      ctx.stderr.write(
        `keygate create-user: the password must be ${config.passwordMinLength} to 1024 characters\n`,
      )
      return 1
    }
    return createUser(ctx, input, password)
  },
}

async function createUser(
  ctx: CommandContext,
  input: ReturnType<typeof parseCreateArgs>,
  password: string,
): Promise<number> {
  return withDeps(ctx.config(), async (deps) => {
    try {
      const user = await deps.services.users.signup(
        { email: input.email, username: input.username, password },
        { is_superuser: input.superuser },
      )
      if (input.json) {
        const { id, email, username, is_superuser } = user
        printJson(ctx.stdout, { id, email, username, is_superuser })
      } else {
        const kind = user.is_superuser ? 'superuser' : 'user'
        ctx.stdout.write(`created ${kind} ${user.email} (id ${user.id})\n`)
      }
      return 0
    } catch (err) {
      // The same refusals signup answers over HTTP (taken email, password policy).
      if (err instanceof KeygateError) ctx.stderr.write(`keygate create-user: ${err.detail}\n`)
      else if (err instanceof ValidationError)
        ctx.stderr.write(`keygate create-user: ${err.issues.map((i) => i.msg).join('; ')}\n`)
      else throw err
      return 1
    }
  })
}

function parseCreateArgs(args: string[]) {
  const { values, positionals } = parseArgs({
    args,
    options: {
      username: { type: 'string' },
      superuser: { type: 'boolean' },
      json: { type: 'boolean' },
    },
    allowPositionals: true,
    strict: true,
  })
  if (positionals.length !== 1) throw new Error('expected exactly one EMAIL')
  const email = positionals[0]!.trim()
  if (!isValidEmail(email)) throw new Error('EMAIL is not a valid email address')
  const username = values.username?.trim() || null
  if (username !== null && !isValidUsername(username))
    throw new Error('--username must be 3-32 letters, digits, "_", "." or "-"')
  return { email, username, superuser: values.superuser === true, json: values.json === true }
}
