import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { PASSKEY_NAME_MAX_LENGTH, type Passkey } from '../../domain/passkey.js'
import { clientContext } from '../client-context.js'
import type { RouteDeps } from '../route-config.js'
import { currentBrowserSession } from './kit/browser-session.js'
import { Form, Link, usePage } from './kit/layout.js'
import { redirectAfterPost, withReturnTo } from './kit/redirects.js'

const when = (d: Date) => `${d.toISOString().replace('T', ' ').slice(0, 16)} UTC`

/** What the account page says after a passkey action (Post/Redirect/Get). */
export const PASSKEY_DONE: Record<string, string> = {
  'passkey-added': 'Your passkey was added.',
  'passkey-renamed': 'The passkey was renamed.',
  'passkey-deleted': 'The passkey was deleted: it no longer signs in.',
}

/** The script element for pages with passkey buttons (CSP script-src 'self'). */
export function PasskeysScript() {
  const { base } = usePage()
  return <script src={`${base}/assets/passkeys.js`} defer />
}

/**
 * A button /assets/passkeys.js drives: hidden until the script finds WebAuthn,
 * so a browser without it (or without JavaScript) never shows a dead button.
 */
export function PasskeyButton(props: {
  action: 'register' | 'authenticate'
  options: string
  verify: string
  label: string
  status: string
  nameInput?: string
  class?: string
}) {
  const { base, csrf } = usePage()
  return (
    <button
      type="button"
      hidden
      class={props.class}
      data-passkey={props.action}
      data-options={`${base}${props.options}`}
      data-verify={`${base}${props.verify}`}
      data-csrf={csrf}
      data-status={props.status}
      data-name-input={props.nameInput}
    >
      {props.label}
    </button>
  )
}

/** The account page's "Passkeys" section: list, rename, delete, and add after a fresh sign-in. */
export function PasskeysSection(props: { passkeys: Passkey[]; fresh: boolean }) {
  return (
    <>
      <h2 id="passkeys">Passkeys</h2>
      <p class="hint">
        A passkey signs you in with your device's screen lock or a security key, without a password.
      </p>
      <ul class="sessions">
        {props.passkeys.map((p) => (
          <li key={p.id}>
            <strong>{p.name}</strong>
            <br />
            <span class="muted">
              added {when(p.created_at)} ·{' '}
              {p.last_used_at ? `last used ${when(p.last_used_at)}` : 'never used'}
              {p.device_type === 'multiDevice' || p.backed_up ? ' · synced' : ''}
            </span>
            <Form action={`/account/passkeys/${p.id}/rename`} label={`Rename ${p.name}`}>
              <div class="field">
                <label for={`passkey-name-${p.id}`}>New name</label>
                <input
                  id={`passkey-name-${p.id}`}
                  name="name"
                  type="text"
                  autocomplete="off"
                  required
                  maxLength={PASSKEY_NAME_MAX_LENGTH}
                  value={p.name}
                />
              </div>
              <button type="submit" class="secondary">
                Rename
              </button>
            </Form>
            <Form action={`/account/passkeys/${p.id}/delete`} label={`Delete ${p.name}`}>
              <button type="submit" class="secondary">
                Delete
              </button>
            </Form>
          </li>
        ))}
      </ul>
      {props.passkeys.length === 0 && <p>No passkeys yet.</p>}
      {props.fresh ? (
        <div>
          <div class="field">
            <label for="passkey-new-name">Name for a new passkey</label>
            <p id="passkey-new-name-hint" class="hint">
              Optional, such as "Laptop" or "Phone".
            </p>
            <input
              id="passkey-new-name"
              type="text"
              autocomplete="off"
              maxLength={PASSKEY_NAME_MAX_LENGTH}
              aria-describedby="passkey-new-name-hint"
            />
          </div>
          <PasskeyButton
            action="register"
            options="/passkeys/register/options"
            verify="/passkeys/register"
            label="Add a passkey"
            status="passkey-register-status"
            nameInput="passkey-new-name"
          />
          <p id="passkey-register-status" role="status" />
        </div>
      ) : (
        <p>
          To add a passkey,{' '}
          <Link href={withReturnTo('/signin', '/account#passkeys')}>sign in again</Link> first
          (adding one needs a sign-in of the last 10 minutes).
        </p>
      )}
    </>
  )
}

const RenameIn = Type.Object({ name: Type.Optional(Type.String({ maxLength: 2048 })) })
const PasskeyParams = Type.Object({ id: Type.String({ format: 'uuid' }) })

/** POST /account/passkeys/{id}/rename and /delete: plain forms, no script needed. */
export const passkeyPages: FastifyPluginAsync<RouteDeps> = async (app, deps) => {
  const { passkeys } = deps.services

  async function signedInUser(request: FastifyRequest, reply: FastifyReply) {
    const current = await currentBrowserSession(request, deps)
    if (!current) await redirectAfterPost(request, reply, withReturnTo('/signin', '/account'))
    return current?.user
  }

  app.post(
    '/account/passkeys/:id/rename',
    { schema: { hide: true, params: PasskeyParams, body: RenameIn } },
    async (request, reply) => {
      const user = await signedInUser(request, reply)
      if (!user) return reply
      const { id } = request.params as { id: string }
      const name = (request.body as { name?: string }).name ?? ''
      await passkeys.rename(user.id, id, name.slice(0, PASSKEY_NAME_MAX_LENGTH))
      return redirectAfterPost(request, reply, '/account?done=passkey-renamed#passkeys')
    },
  )

  app.post(
    '/account/passkeys/:id/delete',
    { schema: { hide: true, params: PasskeyParams } },
    async (request, reply) => {
      const user = await signedInUser(request, reply)
      if (!user) return reply
      await passkeys.remove(user.id, (request.params as { id: string }).id, clientContext(request))
      return redirectAfterPost(request, reply, '/account?done=passkey-deleted#passkeys')
    },
  )
}
