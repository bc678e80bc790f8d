import type { AuditSource } from '../../domain/audit.js'
import type { Client } from '../../domain/client.js'
import type { ConnectedApp } from '../../domain/consent.js'
import { formatScope, type Scope } from '../../domain/scopes.js'
import type { Clock } from '../../domain/time.js'
import { KeygateError } from '../../errors.js'
import type { ConsentsRepo } from '../../repos/oauth/consents.js'
import type { Transact } from '../../repos/support/transaction.js'

export interface ConsentsServiceDeps {
  clock: Clock
  consents: ConsentsRepo
  transact: Transact
}

type ConsentClient = Pick<Client, 'client_id' | 'first_party'>
type Owner = { id: string }

/** What the authorization endpoint does about consent for one request. */
export type ConsentDecision =
  /** nothing to ask: issue the code with this scope */
  | { kind: 'granted'; scope: Scope[] }
  /** show the consent page for `scope`; `added` are the scopes not consented before */
  | { kind: 'ask'; scope: Scope[]; added: Scope[] }
  /** prompt=none, but the page would be needed (OIDC Core §3.1.2.6) */
  | { kind: 'consent_required' }

// A grant that keeps losing its compare-and-set to concurrent grants gives up
// rather than spin; each loser re-reads, so a handful of rounds settles any real race.
const GRANT_ROUNDS = 5

/**
 * Remembered consent (SPEC §7 "Consent"): per user and client, the union of
 * every scope the user allowed. First-party clients never ask (SPEC §6).
 */
export function createConsentsService(deps: ConsentsServiceDeps) {
  const { clock, consents, transact } = deps

  async function needed(user: Owner, client: ConsentClient, requested: readonly Scope[]) {
    if (client.first_party) return []
    const consent = await consents.find(user.id, client.client_id)
    return requested.filter((s) => !consent?.scope.includes(s))
  }

  return {
    /** The scopes of `requested` the user has not yet consented to (none for a first-party client). */
    needed,

    /**
     * Whether the page must be shown for a request whose grantable scope is
     * `scope` (requested ∩ what the user may hold ∩ what the client allows):
     * `prompt=consent` forces it, `prompt=none` may not show it.
     */
    async decide(
      user: Owner,
      client: ConsentClient,
      scope: readonly Scope[],
      prompt: readonly string[] = [],
    ): Promise<ConsentDecision> {
      if (client.first_party) return { kind: 'granted', scope: [...scope] }
      const added = await needed(user, client, scope)
      const ask = added.length > 0 || prompt.includes('consent')
      if (!ask) return { kind: 'granted', scope: [...scope] }
      if (prompt.includes('none')) return { kind: 'consent_required' }
      return { kind: 'ask', scope: [...scope], added }
    },

    /** Remembers that the user allowed `scopes`, added to what they allowed before; answers the whole set. */
    async grant(
      user: Owner,
      client: ConsentClient,
      scopes: readonly Scope[],
      source: AuditSource = {},
    ): Promise<Scope[]> {
      const event = (all: readonly Scope[]) => ({
        type: 'consent_granted' as const,
        userId: user.id,
        source: { ...source, clientId: client.client_id },
        details: { granted: formatScope(scopes), scope: formatScope(all) },
      })
      for (let round = 0; round < GRANT_ROUNDS; round++) {
        const now = clock.now()
        const granted = await transact(async (r) => {
          const before = await r.consents.find(user.id, client.client_id)
          const union = [...new Set([...(before?.scope ?? []), ...scopes])]
          const stored = before
            ? await r.consents.replaceScope(before, union, now)
            : await r.consents.insert(user.id, client.client_id, union, now)
          if (!stored) return undefined
          await r.audit.record(event(union), now)
          return union
        })
        if (granted) return granted
      }
      throw new Error('consent grant kept losing to concurrent grants')
    },

    /** The user's connected apps: every client they consented to, with what they allowed. */
    async list(user: Owner): Promise<ConnectedApp[]> {
      return consents.listForUser(user.id)
    },

    /**
     * Withdraws consent and, in the same transaction, revokes every session
     * the app holds for the user: refresh tokens stop at once, access tokens
     * at the bearer guard's session check. An app without consent is a 404.
     */
    async withdraw(user: Owner, clientId: string, source: AuditSource = {}): Promise<void> {
      const now = clock.now()
      await transact(async (r) => {
        if (!(await r.consents.delete(user.id, clientId))) throw new KeygateError('APP_NOT_FOUND')
        const details = {
          sessions_revoked: await r.sessions.revokeForClient(user.id, clientId, now),
        }
        await r.audit.record(
          { type: 'consent_withdrawn', userId: user.id, source: { ...source, clientId }, details },
          now,
        )
      })
    },
  }
}

export type ConsentsService = ReturnType<typeof createConsentsService>
