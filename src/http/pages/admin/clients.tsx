import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { type Client, GRANT_TYPES, type GrantType } from '../../../domain/client.js'
import { SCOPES } from '../../../domain/scopes.js'
import { DEFAULT_CLIENT_ID } from '../../../domain/session.js'
import type { ClientWithSecret } from '../../../services/oauth/clients.js'
import type { RouteDeps } from '../../route-config.js'
import { ClientIdParams } from '../../schemas/clients.js'
import { attempt } from '../kit/form-errors.js'
import { Field, type FieldErrors, Form, Link, Notice, sendPage } from '../kit/layout.js'
import { redirectAfterPost } from '../kit/redirects.js'
import { adminSource } from './admin-session.js'
import { AdminNav, Checkbox, Checkboxes, TextArea, when } from './controls.js'

const Text = (maxLength: number) => Type.Optional(Type.String({ maxLength }))
// A checkbox group arrives as one string or, checked more than once, a list.
const Many = Type.Optional(
  Type.Union([
    Type.String({ maxLength: 64 }),
    Type.Array(Type.String({ maxLength: 64 }), { maxItems: 16 }),
  ]),
)
const ClientForm = Type.Object({
  name: Text(256),
  type: Text(16),
  redirect_uris: Text(8192),
  post_logout_redirect_uris: Text(8192),
  grant_types: Many,
  scopes: Many,
  first_party: Text(8),
})
type ClientFormBody = {
  name?: string
  type?: string
  redirect_uris?: string
  post_logout_redirect_uris?: string
  grant_types?: string | string[]
  scopes?: string | string[]
  first_party?: string
}
const DoneQuery = Type.Object({ done: Type.Optional(Type.String({ maxLength: 64 })) })
const ActionBody = Type.Object({ csrf_token: Type.Optional(Type.String({ maxLength: 512 })) })

const DONE: Record<string, string> = {
  saved: 'The client was saved.',
  deleted: 'The client was deleted; its sessions were signed out.',
}

// The service's refusals, in a sentence per field.
const FIELD_SENTENCES: Record<string, string> = {
  name: 'Enter a name of at most 200 characters.',
  type: 'Choose public or confidential.',
  grant_types: 'Choose at least one grant type this client may use.',
  redirect_uris:
    'Enter at least one redirect URI (one a line), unless the client only uses client_credentials.',
  scopes: 'Choose only scopes Keygate knows.',
}

/** The service's validation issues as sentences: its own when specific, the field's otherwise. */
function sentences(errors: FieldErrors): FieldErrors {
  return Object.fromEntries(
    Object.entries(errors).map(([field, msg]) => {
      const specific = msg?.startsWith('Value error, ')
        ? msg.slice('Value error, '.length)
        : undefined
      const text = specific
        ? `${specific.charAt(0).toUpperCase()}${specific.slice(1)}.`
        : (FIELD_SENTENCES[field] ?? msg)
      return [field, text]
    }),
  )
}

const lines = (value: string | undefined): string[] =>
  (value ?? '')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '')
const list = (value: string | string[] | undefined): string[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value]

/** The settings a form asks for (the service checks them). */
function settingsOf(body: ClientFormBody) {
  return {
    name: body.name?.trim() ?? '',
    redirect_uris: lines(body.redirect_uris),
    post_logout_redirect_uris: lines(body.post_logout_redirect_uris),
    grant_types: list(body.grant_types) as GrantType[],
    scopes: list(body.scopes),
    first_party: body.first_party === '1',
  }
}

type Settings = ReturnType<typeof settingsOf> & { type?: string }

const DEFAULTS: Settings = {
  name: '',
  type: 'confidential',
  redirect_uris: [],
  post_logout_redirect_uris: [],
  grant_types: ['authorization_code', 'refresh_token'],
  scopes: ['openid', 'profile', 'email', 'offline_access'],
  first_party: false,
}

/** The settings fields shared by the new-client and edit forms. */
function SettingsFields(props: { settings: Settings; errors: FieldErrors; isNew: boolean }) {
  const { settings: s, errors } = props
  return (
    <>
      <Field
        name="name"
        label="Name"
        autocomplete="off"
        value={s.name}
        error={errors.name}
        required
      />
      {props.isNew && (
        <fieldset class="field" aria-describedby={errors.type ? 'type-error' : undefined}>
          <legend>Type</legend>
          {(['confidential', 'public'] as const).map((t) => (
            <label key={t} class="check">
              <input type="radio" name="type" value={t} checked={s.type === t} /> {t}
            </label>
          ))}
          {errors.type && (
            <p id="type-error" class="error">
              {errors.type}
            </p>
          )}
        </fieldset>
      )}
      <TextArea
        name="redirect_uris"
        label="Redirect URIs"
        hint="One a line; https, or http on 127.0.0.1 or [::1]."
        value={s.redirect_uris.join('\n')}
        error={errors.redirect_uris}
      />
      <TextArea
        name="post_logout_redirect_uris"
        label="Post-logout redirect URIs"
        hint="One a line."
        value={s.post_logout_redirect_uris.join('\n')}
        error={errors.post_logout_redirect_uris}
      />
      <Checkboxes
        name="grant_types"
        legend="Grant types"
        options={GRANT_TYPES}
        checked={s.grant_types}
        error={errors.grant_types}
      />
      <Checkboxes
        name="scopes"
        legend="Scopes"
        options={SCOPES}
        checked={s.scopes}
        error={errors.scopes}
      />
      <Checkbox
        name="first_party"
        label="First party"
        checked={s.first_party}
        hint="Skips the consent page; only first-party clients may use the password grant."
      />
    </>
  )
}

/** A secret, shown on this one answer and never again. */
function SecretOnce(props: { result: ClientWithSecret }) {
  const { client, client_secret } = props.result
  return (
    <>
      <AdminNav current="clients" />
      <dl class="details">
        <dt>Client id</dt>
        <dd>
          <code id="client-id">{client.client_id}</code>
        </dd>
        {client_secret !== undefined && (
          <>
            <dt>Client secret</dt>
            <dd>
              <p class="secret" id="client-secret">
                {client_secret}
              </p>
            </dd>
          </>
        )}
      </dl>
      {client_secret !== undefined && (
        <Notice kind="info">
          Copy the secret now: Keygate keeps only its hash and will not show it again.
        </Notice>
      )}
      <p>
        <Link href={`/admin/clients/${client.client_id}`}>Go to {client.name}</Link>
      </p>
    </>
  )
}

function ClientList(props: { clients: Client[]; done?: string }) {
  return (
    <>
      <AdminNav current="clients" />
      {props.done && <Notice kind="info">{props.done}</Notice>}
      <p>
        <Link href="/admin/clients/new">Register a client</Link>
      </p>
      <table class="admin">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Client id</th>
            <th scope="col">Type</th>
            <th scope="col">First party</th>
          </tr>
        </thead>
        <tbody>
          {props.clients.map((c) => (
            <tr key={c.client_id}>
              <td>
                <Link href={`/admin/clients/${c.client_id}`}>{c.name}</Link>
              </td>
              <td>
                <code>{c.client_id}</code>
              </td>
              <td>{c.type}</td>
              <td>{c.first_party ? 'yes' : 'no'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  )
}

function ClientDetail(props: {
  client: Client
  settings: Settings
  errors: FieldErrors
  done?: string
}) {
  const { client } = props
  const path = `/admin/clients/${client.client_id}`
  const builtin = client.client_id === DEFAULT_CLIENT_ID
  return (
    <>
      <AdminNav current="clients" />
      {props.done && <Notice kind="info">{props.done}</Notice>}
      {props.errors[''] && <Notice kind="error">{props.errors['']}</Notice>}
      <dl class="details">
        <dt>Client id</dt>
        <dd>
          <code>{client.client_id}</code>
        </dd>
        <dt>Type</dt>
        <dd>{client.type}</dd>
        <dt>Updated</dt>
        <dd>{when(client.updated_at)}</dd>
      </dl>
      {builtin ? (
        <p>This is Keygate’s built-in client: its settings come from the code.</p>
      ) : (
        <>
          <Form action={path} label="Client settings">
            <SettingsFields settings={props.settings} errors={props.errors} isNew={false} />
            <button type="submit">Save</button>
          </Form>
          <div class="actions">
            {client.type === 'confidential' && (
              <Form action={`${path}/rotate-secret`} label="Rotate secret">
                <button type="submit" class="secondary">
                  Rotate secret
                </button>
              </Form>
            )}
            <Form action={`${path}/delete`} label="Delete client">
              <button type="submit" class="secondary">
                Delete client
              </button>
            </Form>
          </div>
        </>
      )}
    </>
  )
}

/** /admin/clients: register, change, rotate the secret of and delete clients. */
export const adminClientPages: FastifyPluginAsync<RouteDeps> = async (app, { services }) => {
  const { clients } = services

  const settingsOfClient = (c: Client): Settings => ({ ...c })

  function showDetail(
    request: FastifyRequest,
    reply: FastifyReply,
    client: Client,
    view: { settings?: Settings; errors?: FieldErrors; done?: string } = {},
    status = 200,
  ) {
    return sendPage(
      request,
      reply,
      { title: client.name, status },
      <ClientDetail
        client={client}
        settings={view.settings ?? settingsOfClient(client)}
        errors={view.errors ?? {}}
        done={view.done}
      />,
    )
  }

  function showNew(
    request: FastifyRequest,
    reply: FastifyReply,
    settings: Settings,
    errors: FieldErrors = {},
    status = 200,
  ) {
    return sendPage(
      request,
      reply,
      { title: 'Register a client', status },
      <>
        <AdminNav current="clients" />
        <Form action="/admin/clients/new" label="Register a client">
          <SettingsFields settings={settings} errors={errors} isNew />
          <button type="submit">Register</button>
        </Form>
      </>,
    )
  }

  app.get(
    '/admin/clients',
    { schema: { hide: true, querystring: DoneQuery } },
    async (request, reply) => {
      const { done } = request.query as { done?: string }
      return sendPage(
        request,
        reply,
        { title: 'Clients' },
        <ClientList clients={await clients.list()} done={done ? DONE[done] : undefined} />,
      )
    },
  )

  app.get('/admin/clients/new', { schema: { hide: true } }, async (request, reply) =>
    showNew(request, reply, DEFAULTS),
  )

  app.post(
    '/admin/clients/new',
    { schema: { hide: true, body: ClientForm } },
    async (request, reply) => {
      const body = request.body as ClientFormBody
      const settings = { ...settingsOf(body), type: body.type }
      const type = body.type === 'public' || body.type === 'confidential' ? body.type : undefined
      if (!type) return showNew(request, reply, settings, sentences({ type: 'Invalid value' }), 400)
      const { ok, errors } = await attempt(
        clients.create({ ...settings, type }, adminSource(request)),
        {},
      )
      if (!ok) return showNew(request, reply, settings, sentences(errors), 400)
      return sendPage(request, reply, { title: 'Client registered' }, <SecretOnce result={ok} />)
    },
  )

  app.get(
    '/admin/clients/:client_id',
    { schema: { hide: true, params: ClientIdParams, querystring: DoneQuery } },
    async (request, reply) => {
      const { client_id } = request.params as { client_id: string }
      const { done } = request.query as { done?: string }
      const client = await clients.get(client_id)
      return showDetail(request, reply, client, { done: done ? DONE[done] : undefined })
    },
  )

  app.post(
    '/admin/clients/:client_id',
    { schema: { hide: true, params: ClientIdParams, body: ClientForm } },
    async (request, reply) => {
      const { client_id } = request.params as { client_id: string }
      const client = await clients.get(client_id)
      const settings = settingsOf(request.body as ClientFormBody)
      const { errors } = await attempt(clients.update(client_id, settings, adminSource(request)), {
        BUILTIN_CLIENT: ['', 'The built-in client cannot be changed.'],
      })
      if (errors) {
        const view = { settings: { ...settings, type: client.type }, errors: sentences(errors) }
        return showDetail(request, reply, client, view, 400)
      }
      return redirectAfterPost(request, reply, `/admin/clients/${client_id}?done=saved`)
    },
  )

  app.post(
    '/admin/clients/:client_id/rotate-secret',
    { schema: { hide: true, params: ClientIdParams, body: ActionBody } },
    async (request, reply) => {
      const { client_id } = request.params as { client_id: string }
      const client = await clients.get(client_id)
      const { ok, errors } = await attempt(clients.rotateSecret(client_id, adminSource(request)), {
        BUILTIN_CLIENT: ['', 'The built-in client has no secret.'],
        PUBLIC_CLIENT_SECRET: ['', 'A public client has no secret.'],
      })
      if (!ok) return showDetail(request, reply, client, { errors }, 409)
      return sendPage(request, reply, { title: 'New client secret' }, <SecretOnce result={ok} />)
    },
  )

  app.post(
    '/admin/clients/:client_id/delete',
    { schema: { hide: true, params: ClientIdParams, body: ActionBody } },
    async (request, reply) => {
      const { client_id } = request.params as { client_id: string }
      const client = await clients.get(client_id)
      const { errors } = await attempt(clients.delete(client_id, adminSource(request)), {
        BUILTIN_CLIENT: ['', 'The built-in client cannot be deleted.'],
      })
      if (errors) return showDetail(request, reply, client, { errors }, 409)
      return redirectAfterPost(request, reply, '/admin/clients?done=deleted')
    },
  )
}
