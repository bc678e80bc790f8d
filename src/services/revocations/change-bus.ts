import { randomUUID } from 'node:crypto'
import type { Change } from '../../repos/sessions/changes.js'

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
  /** Whether this process receives its own messages back (Redis, PostgreSQL). */
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
// Instances announce themselves this often, and count as peers while heard from within PEER_TTL_MS.
const HELLO_MS = 5000
const PEER_TTL_MS = 3 * HELLO_MS

/**
 * On the wire: a change (`c`, numbered `n`), an acknowledgement (`a`, for `to`),
 * a hello (`h`) or a goodbye (`bye`).
 */
interface Message {
  o?: unknown
  n?: unknown
  c?: unknown
  a?: unknown
  to?: unknown
  h?: unknown
  bye?: unknown
}

/**
 * Delivers every committed change to this process's listeners at once, and
 * through the transport to every other instance's. Messages carry the
 * sender's id (an instance ignores its own), and every instance acknowledges
 * each change it applies, so a publisher knows when its peers (the instances
 * that said hello recently) all have it.
 */
export function createChangeBus(connect: (h: TransportHandlers) => Transport | undefined) {
  const listeners = new Set<ChangeListener>()
  const origin = randomUUID()
  const deliver = (changes: Change[]) => {
    for (const l of listeners) l.changes(changes)
  }
  /** peer id → when last heard from (performance.now()) */
  const peers = new Map<string, number>()
  /** a change of ours in flight: its echo, and the peers that have yet to acknowledge it */
  const pending = new Map<number, { waiting: Set<string>; echo: boolean; done: () => void }>()
  let sent = 0
  let transport: Transport | undefined
  const send = (m: Message) => transport?.send(JSON.stringify(m)) ?? Promise.resolve()
  const settle = (n: number) => {
    const p = pending.get(n)
    if (p && p.waiting.size === 0 && p.echo) p.done()
  }

  transport = connect({
    receive(message) {
      let m: Message
      try {
        m = JSON.parse(message)
      } catch {
        return
      }
      if (typeof m.o !== 'string') return
      if (m.o === origin) {
        // Our own change back from Redis or PostgreSQL: it has gone out to everyone.
        const p = pending.get(m.n as number)
        if (p && m.c !== undefined) {
          p.echo = true
          settle(m.n as number)
        }
        return
      }
      if (m.bye !== undefined) {
        peers.delete(m.o)
        return
      }
      const known = peers.has(m.o)
      peers.set(m.o, performance.now())
      if (m.h !== undefined) {
        // A newcomer learns of us at once, not at our next hello.
        if (!known) void send({ o: origin, h: 1 })
        return
      }
      if (m.a !== undefined) {
        if (m.to !== origin) return
        pending.get(m.a as number)?.waiting.delete(m.o)
        settle(m.a as number)
        return
      }
      if (!Array.isArray(m.c)) return
      deliver((m.c as unknown[]).filter(isChange))
      void send({ o: origin, a: m.n, to: m.o })
    },
    doubt() {
      for (const l of listeners) l.doubt()
      // (Re)connected, perhaps: the others learn of us now, not at the next hello.
      void send({ o: origin, h: 1 })
    },
  })
  const hello = setInterval(() => void send({ o: origin, h: 1 }), HELLO_MS).unref()
  void send({ o: origin, h: 1 })

  return {
    /**
     * Applies the changes here at once, and resolves when the other instances
     * have them (at most SEND_WAIT_MS): when every peer has acknowledged them
     * and, on Redis or PostgreSQL, our own copy has come back. A logout
     * answers only then, so the client's next request, wherever it lands, is
     * refused.
     */
    async publish(changes: Change[]): Promise<void> {
      if (changes.length === 0) return
      deliver(changes)
      if (!transport) return
      const now = performance.now()
      const live = [...peers].filter(([, seen]) => now - seen < PEER_TTL_MS).map(([id]) => id)
      const arrivals: Promise<void>[] = []
      const numbers: number[] = []
      // PostgreSQL's NOTIFY payload must stay under 8000 bytes: ~100 changes a message.
      for (let i = 0; i < changes.length; i += 100) {
        const n = ++sent
        numbers.push(n)
        const echo = !(transport.echoes && transport.connected)
        const arrived = new Promise<void>((done) => {
          pending.set(n, { waiting: new Set(live), echo, done })
        })
        const sending = send({ o: origin, n, c: changes.slice(i, i + 100) })
        // Without echo or peers to wait for, having sent it is all we can know.
        arrivals.push(echo && live.length === 0 ? sending : arrived)
        settle(n)
      }
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        Promise.all(arrivals),
        new Promise((resolve) => {
          timer = setTimeout(resolve, SEND_WAIT_MS)
        }),
      ])
      clearTimeout(timer)
      for (const n of numbers) pending.delete(n)
    },
    subscribe(listener: ChangeListener): () => void {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    /** Instances heard from recently, whose acknowledgements a publish waits for. */
    get peerCount(): number {
      const now = performance.now()
      return [...peers.values()].filter((seen) => now - seen < PEER_TTL_MS).length
    },
    /** Whether remembered liveness can be trusted: always in one process, else while linked. */
    get trusted(): boolean {
      return transport === undefined || transport.connected
    },
    close: async () => {
      clearInterval(hello)
      // Peers stop waiting for our acknowledgements at once.
      await send({ o: origin, bye: 1 })
      await transport?.close()
    },
  }
}

export type ChangeBus = ReturnType<typeof createChangeBus>

function isChange(v: unknown): v is Change {
  if (typeof v !== 'object' || v === null) return false
  const c = v as Record<string, unknown>
  return typeof c.sid === 'string' || typeof c.sub === 'string'
}
