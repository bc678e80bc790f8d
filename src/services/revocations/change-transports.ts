import type { Transport, TransportHandlers } from './change-bus.js'

const hubs = new WeakMap<object, Set<TransportHandlers>>()

/**
 * Between Keygate instances in one process that share a database handle
 * (SQLite: tests, embedding): each one's changes reach the others directly.
 */
export function inProcessTransport(shared: object) {
  return (h: TransportHandlers): Transport => {
    const hub = hubs.get(shared) ?? new Set<TransportHandlers>()
    hubs.set(shared, hub)
    hub.add(h)
    return {
      connected: true,
      send(message) {
        for (const other of hub) if (other !== h) other.receive(message)
      },
      async close() {
        hub.delete(h)
      },
    }
  }
}

