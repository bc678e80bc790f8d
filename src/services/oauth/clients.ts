import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { AuditSource } from '../../domain/audit.js'
import {
  type Client,
  type ClientInput,
  type ClientPatch,
  GRANT_TYPES,
  type GrantType,
} from '../../domain/client.js'
import { SCOPES } from '../../domain/scopes.js'
import { DEFAULT_CLIENT_ID } from '../../domain/session.js'
import type { Clock } from '../../domain/time.js'
import {
  BASIC_CHALLENGE,
  type FieldIssue,
  fieldIssue,
  KeygateError,
  ValidationError,
} from '../../errors.js'
import type { ClientsRepo } from '../../repos/oauth/clients.js'
import type { Transact } from '../../repos/support/transaction.js'
import { redirectUriProblem } from './redirect-uris.js'

/** SPEC §6 defaults for a newly registered client. */
const DEFAULT_GRANTS: GrantType[] = ['authorization_code', 'refresh_token']
const DEFAULT_SCOPES = ['openid', 'profile', 'email', 'offline_access']

/**
 * The built-in client (SPEC §6): what an empty `client_id` means, so Swagger
 * UI and Part I callers work unchanged. Defined here, not by its table row,
 * so it always holds every scope Keygate knows and cannot be edited.
 */
function builtinClient(created: Date): Client {
  return {
    client_id: DEFAULT_CLIENT_ID,
    name: 'Keygate',
    type: 'public',
    redirect_uris: [],
    post_logout_redirect_uris: [],
    grant_types: ['password', 'refresh_token'],
    scopes: [...SCOPES],
    first_party: true,
    created_at: created,
    updated_at: created,
  }
}

/** A client secret: 256 random bits, base64url. */
const newSecret = (): string => randomBytes(32).toString('base64url')
/** 128 random bits, base64url: URL-safe, and never shaped like a user's UUID `sub`. */
const newClientId = (): string => randomBytes(16).toString('base64url')
/** 256 random bits need no salt or slow hash: SHA-256 is the whole defence a leak needs. */
const hashSecret = (secret: string): Buffer => createHash('sha256').update(secret).digest()

/** The client_id and secret of an RFC 6749 §2.3.1 Basic header (form-urlencoded, then base64). */
export function basicCredentials(
  header: string | undefined,
): { clientId?: string; secret?: string } | undefined {
  const match = header ? /^basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null
  if (!match?.[1]) return undefined
  const decoded = Buffer.from(match[1], 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  return {
    clientId: formDecode(colon < 0 ? decoded : decoded.slice(0, colon)),
    secret: colon < 0 ? undefined : formDecode(decoded.slice(colon + 1)),
  }
}

function formDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '))
  } catch {
    return undefined
  }
}

const unique = <T>(xs: T[]): T[] => [...new Set(xs)]

/** Every rule of SPEC §6 a client's settings must meet, as 422 issues. */
function problems(c: Client): FieldIssue[] {
  const issues: FieldIssue[] = []
  if (c.name.trim() === '' || c.name.length > 200) issues.push(fieldIssue('name', 'invalid'))
  if (c.type !== 'public' && c.type !== 'confidential') issues.push(fieldIssue('type', 'invalid'))
  if (c.grant_types.length === 0) issues.push(fieldIssue('grant_types', 'invalid'))
  c.grant_types.forEach((g, index) => {
    if (!GRANT_TYPES.includes(g)) issues.push({ ...fieldIssue('grant_types', 'invalid'), index })
  })
  if (c.type === 'public' && c.grant_types.includes('client_credentials')) {
    issues.push(fieldIssue('grant_types', 'publicClientCredentials'))
  }
  // RFC 9700 §2.4: the password grant stays with first-party clients.
  if (!c.first_party && c.grant_types.includes('password')) {
    issues.push(fieldIssue('grant_types', 'passwordGrantThirdParty'))
  }
  c.scopes.forEach((s, index) => {
    if (!(SCOPES as readonly string[]).includes(s)) {
      issues.push({ ...fieldIssue('scopes', 'invalid'), index })
    }
  })
  const onlyClientCredentials = c.grant_types.every((g) => g === 'client_credentials')
  if (c.redirect_uris.length === 0 && !onlyClientCredentials) {
    issues.push(fieldIssue('redirect_uris', 'missing'))
  }
  for (const field of ['redirect_uris', 'post_logout_redirect_uris'] as const) {
    c[field].forEach((uri, index) => {
      const problem = redirectUriProblem(uri)
      if (problem) issues.push({ ...fieldIssue(field, problem), index })
    })
  }
  return issues
}

function checked(c: Client): Client {
  const client = {
    ...c,
    name: c.name.trim(),
    redirect_uris: unique(c.redirect_uris),
    post_logout_redirect_uris: unique(c.post_logout_redirect_uris),
    grant_types: unique(c.grant_types),
    scopes: unique(c.scopes),
  }
  const issues = problems(client)
  if (issues.length > 0) throw new ValidationError(issues)
  return client
}

export interface ClientsServiceDeps {
  clock: Clock
  clients: ClientsRepo
  transact: Transact
}

/** A new client, or a rotated secret: the secret is in this answer and nowhere else, ever. */
export interface ClientWithSecret {
  client: Client
  client_secret?: string
}

/** Registered clients (SPEC §6): registration, the superuser API, client authentication. */
export function createClientsService(deps: ClientsServiceDeps) {
  const { clock, clients, transact } = deps

  /** The client and its secret's hash; the built-in client from code. */
  async function load(clientId: string) {
    const stored = await clients.find(clientId)
    if (clientId === DEFAULT_CLIENT_ID) {
      return { client: builtinClient(stored?.client.created_at ?? new Date(0)), secretHash: null }
    }
    return stored
  }

  async function get(clientId: string): Promise<Client> {
    const found = await load(clientId)
    if (!found) throw new KeygateError('CLIENT_NOT_FOUND')
    return found.client
  }

  const refuseBuiltin = (clientId: string) => {
    if (clientId === DEFAULT_CLIENT_ID) throw new KeygateError('BUILTIN_CLIENT')
  }

  return {
    get,

    /** The client, or undefined; an empty id is the built-in client. */
    async find(clientId: string | undefined): Promise<Client | undefined> {
      return (await load(clientId || DEFAULT_CLIENT_ID))?.client
    },

    /** Every client, the built-in one first. */
    async list(): Promise<Client[]> {
      const builtin = await get(DEFAULT_CLIENT_ID)
      return [builtin, ...(await clients.list([DEFAULT_CLIENT_ID]))]
    },

    /**
     * Registers a client; a confidential one gets its secret here, once.
     * `source` is the acting superuser's (none from the CLI); the audit row's
     * client is the client the event is about.
     */
    async create(input: ClientInput, source: AuditSource = {}): Promise<ClientWithSecret> {
      const now = clock.now()
      const client = checked({
        client_id: newClientId(),
        name: input.name,
        type: input.type,
        redirect_uris: input.redirect_uris ?? [],
        post_logout_redirect_uris: input.post_logout_redirect_uris ?? [],
        grant_types: input.grant_types ?? DEFAULT_GRANTS,
        scopes: input.scopes ?? DEFAULT_SCOPES,
        first_party: input.first_party ?? false,
        created_at: now,
        updated_at: now,
      })
      const secret = client.type === 'confidential' ? newSecret() : undefined
      await transact(async (r) => {
        await r.clients.insert(
          client,
          secret === undefined ? null : hashSecret(secret).toString('hex'),
        )
        await r.audit.record(
          {
            type: 'client_created',
            source: { ...source, clientId: client.client_id },
            details: { type: client.type, first_party: client.first_party },
          },
          now,
        )
      })
      return secret === undefined ? { client } : { client, client_secret: secret }
    },

    /** Changes a client's settings; the same rules as registration apply to the result. */
    async update(clientId: string, patch: ClientPatch, source: AuditSource = {}): Promise<Client> {
      refuseBuiltin(clientId)
      const current = await get(clientId)
      const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined))
      const now = clock.now()
      const client = checked({ ...current, ...defined, updated_at: now })
      await transact(async (r) => {
        if (!(await r.clients.update(client))) throw new KeygateError('CLIENT_NOT_FOUND')
        // The names of the fields sent, not their values: small, and never a secret.
        const fields = Object.keys(defined).sort().join(' ')
        const event = { type: 'client_updated' as const, details: { fields } }
        await r.audit.record({ ...event, source: { ...source, clientId } }, now)
      })
      return client
    },

    /**
     * Deletes a client and, in the same transaction, revokes every session
     * issued to it: its users' tokens stop on their next request, and its
     * client_credentials tokens with the client's row.
     */
    async delete(clientId: string, source: AuditSource = {}): Promise<void> {
      refuseBuiltin(clientId)
      const now = clock.now()
      await transact(async (tx) => {
        if (!(await tx.clients.delete(clientId))) throw new KeygateError('CLIENT_NOT_FOUND')
        const details = { sessions_revoked: await tx.sessions.revokeAllForClient(clientId, now) }
        await tx.audit.record(
          { type: 'client_deleted', source: { ...source, clientId }, details },
          now,
        )
      })
    },

    /** A new secret for a confidential client; the old one stops working at once. */
    async rotateSecret(clientId: string, source: AuditSource = {}): Promise<ClientWithSecret> {
      refuseBuiltin(clientId)
      const client = await get(clientId)
      if (client.type !== 'confidential') throw new KeygateError('PUBLIC_CLIENT_SECRET')
      const secret = newSecret()
      const now = clock.now()
      await transact(async (r) => {
        if (!(await r.clients.setSecretHash(clientId, hashSecret(secret).toString('hex'), now))) {
          throw new KeygateError('CLIENT_NOT_FOUND')
        }
        const event = { type: 'client_secret_rotated' as const }
        await r.audit.record({ ...event, source: { ...source, clientId } }, now)
      })
      return { client: { ...client, updated_at: now }, client_secret: secret }
    },

    /**
     * Token-endpoint client authentication (RFC 6749 §2.3, §5.2):
     * `client_secret_basic`, `client_secret_post`, or `none` for a public
     * client (a secret it sends is ignored, as Part I did). No client at all,
     * or Swagger UI's empty Basic `Og==`, is the built-in client. An unknown
     * client, or a confidential one without its secret, is 401
     * invalid_client, challenged with Basic when Basic was used.
     */
    async authenticate(
      form: { client_id?: string; client_secret?: string },
      authorization: string | undefined,
    ): Promise<Client> {
      const basic = basicCredentials(authorization)
      const basicId = basic?.clientId || undefined
      const fail = () =>
        new KeygateError(
          'INVALID_CLIENT',
          basicId === undefined ? {} : { headers: { 'WWW-Authenticate': BASIC_CHALLENGE } },
        )
      if (basicId !== undefined) {
        // RFC 6749 §2.3: one authentication method per request.
        if (form.client_secret !== undefined) throw new KeygateError('INVALID_REQUEST')
        if (form.client_id !== undefined && form.client_id !== basicId) throw fail()
      }
      const clientId = basicId ?? form.client_id ?? DEFAULT_CLIENT_ID
      const found = await load(clientId)
      if (!found) throw fail()
      if (found.client.type === 'public') return found.client
      const secret = basicId === undefined ? form.client_secret : basic?.secret
      const expected = found.secretHash === null ? undefined : Buffer.from(found.secretHash, 'hex')
      if (
        secret === undefined ||
        expected?.length !== 32 ||
        !timingSafeEqual(hashSecret(secret), expected)
      ) {
        throw fail()
      }
      return found.client
    },
  }
}

export type ClientsService = ReturnType<typeof createClientsService>
