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
  /**
   * Whether this process receives its own messages back (Redis, PostgreSQL): the
   * bus then waits for that echo, which arrives when the others' copies do.
   */
  readonly echoes?: boolean
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
  // Messages of ours sent and not yet heard back, by number.
  const echoes = new Map<number, () => void>()
  let sent = 0
  const transport = connect({
    receive(message) {
      let parsed: { o?: unknown; n?: unknown; c?: unknown }
      try {
        parsed = JSON.parse(message)
      } catch {
        return
      }
      if (parsed.o === origin) return echoes.get(parsed.n as number)?.()
      if (!Array.isArray(parsed.c)) return
      deliver((parsed.c as unknown[]).filter(isChange))
    },
    doubt() {
      for (const l of listeners) l.doubt()
    },
  })

  return {
    /**
     * Applies the changes here at once, and resolves when the other instances
     * have them (at most SEND_WAIT_MS): once this process hears its own message
     * back from Redis or PostgreSQL, which deliver every subscriber's copy
     * together, else once it is sent (IPC). A logout answers only then, so
     * the client's next request, wherever it lands, is refused.
     */
    async publish(changes: Change[]): Promise<void> {
      if (changes.length === 0) return
      deliver(changes)
      if (!transport) return
      const arrivals: Promise<void>[] = []
      // PostgreSQL's NOTIFY payload must stay under 8000 bytes: ~100 changes a message.
      for (let i = 0; i < changes.length; i += 100) {
        const n = ++sent
        const echoed = new Promise<void>((resolve) => echoes.set(n, resolve))
        const message = JSON.stringify({ o: origin, n, c: changes.slice(i, i + 100) })
        const sending = transport.send(message)
        arrivals.push(transport.echoes && transport.connected ? echoed : sending)
      }
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        Promise.all(arrivals),
        new Promise((resolve) => {
          timer = setTimeout(resolve, SEND_WAIT_MS)
        }),
      ])
      clearTimeout(timer)
      for (let n = sent - arrivals.length + 1; n <= sent; n++) echoes.delete(n)
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
