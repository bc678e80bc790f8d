import type { Server } from 'node:http'
import { clientGroup } from '../services/throttle/client-group.js'

interface ConnectionLimits {
  /** open sockets per process; Node drops the rest before they are read */
  maxConnections: number
  /** open sockets per client address (IPv6 by /64); 0 disables the cap */
  perClient: number
}

/**
 * Caps open sockets, so one client holding thousands of idle connections
 * cannot use up the process's file descriptors and have everyone else reset
 * (issue 14). The request, header and keep-alive timeouts still close idle
 * sockets; this bounds how many can be open meanwhile. The per-client count is
 * by socket address: behind a proxy (TRUST_PROXY) every socket is the proxy's,
 * so the caller leaves it off there and the proxy limits its clients.
 */
export function guardConnections(server: Server, limits: ConnectionLimits): void {
  server.maxConnections = limits.maxConnections
  if (limits.perClient <= 0) return
  const open = new Map<string, number>()
  server.on('connection', (socket) => {
    const client = clientGroup(socket.remoteAddress)
    const count = open.get(client) ?? 0
    if (count >= limits.perClient) {
      socket.destroy()
      return
    }
    open.set(client, count + 1)
    socket.once('close', () => {
      const left = (open.get(client) ?? 1) - 1
      if (left > 0) open.set(client, left)
      else open.delete(client)
    })
  })
}
