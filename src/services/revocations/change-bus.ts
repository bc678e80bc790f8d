import { randomUUID } from 'node:crypto'
import type { Change } from '../../repos/changes.js'

/** What a bus delivers: committed changes, and "you may have missed some". */
export interface ChangeListener {
  changes(changes: Change[]): void
  /** a connection dropped or came back: anything remembered may be stale */
  doubt(): void
}

/** How changes reach the other instances (and workers); see change-transports.ts. */
export interface Transport {
  /** true while changes sent by every other instance are known to reach this one */
  readonly connected: boolean
  /** resolves when the message has left (or failed to) */
  send(message: string): Promise<void>
  close(): Promise<void>
}

export interface TransportHandlers {
  receive(message: string): void
  /** the transport lost or regained its link: listeners must forget */
  doubt(): void
}

// A transport that hangs must not hold a logout for long; the cache's max age is the backstop.
const SEND_WAIT_MS = 1000

/**
 * Delivers every committed change to this process's listeners at once, and
 * through the transport to every other instance's. Messages carry the
 * sender's id so an instance does not apply its own changes twice.
 */
export function createChangeBus(connect: (h: TransportHandlers) => Transport | undefined) {
  const listeners = new Set<ChangeListener>()
  const origin = randomUUID()
  const deliver = (changes: Change[]) => {
    for (const l of listeners) l.changes(changes)
  }
  const transport = connect({
    receive(message) {
      let parsed: { o?: unknown; c?: unknown }
      try {
        parsed = JSON.parse(message)
      } catch {
        return
      }
      if (parsed.o === origin || !Array.isArray(parsed.c)) return
      deliver((parsed.c as unknown[]).filter(isChange))
    },
    doubt() {
      for (const l of listeners) l.doubt()
    },
  })

  return {
    /**
     * Applies the changes here at once, and resolves when they have been sent
     * to the other instances (at most SEND_WAIT_MS): a logout answers only
     * after its revocation is on its way to every instance, so the client's
     * next request, wherever it lands, is refused.
     */
    async publish(changes: Change[]): Promise<void> {
      if (changes.length === 0) return
      deliver(changes)
      if (!transport) return
      const sends: Promise<void>[] = []
      // PostgreSQL's NOTIFY payload must stay under 8000 bytes: ~100 changes a message.
      for (let i = 0; i < changes.length; i += 100) {
        sends.push(transport.send(JSON.stringify({ o: origin, c: changes.slice(i, i + 100) })))
      }
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        Promise.all(sends),
        new Promise((resolve) => {
          timer = setTimeout(resolve, SEND_WAIT_MS)
        }),
      ])
      clearTimeout(timer)
    },
    subscribe(listener: ChangeListener): () => void {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    /** Whether remembered liveness can be trusted: always in one process, else while linked. */
    get trusted(): boolean {
      return transport === undefined || transport.connected
    },
    close: async () => transport?.close(),
  }
}

export type ChangeBus = ReturnType<typeof createChangeBus>

function isChange(v: unknown): v is Change {
  if (typeof v !== 'object' || v === null) return false
  const c = v as Record<string, unknown>
  return typeof c.sid === 'string' || typeof c.sub === 'string'
}
