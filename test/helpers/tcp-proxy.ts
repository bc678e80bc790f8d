import net from 'node:net'

export interface TcpProxy {
  port: number
  /** closes the listener and cuts every open connection: the database "goes away" */
  cut(): Promise<void>
  /** listens again on the same port: the database "comes back" */
  restore(): Promise<void>
  close(): Promise<void>
}

/** A TCP forwarder to 127.0.0.1:targetPort, for simulating a database outage. */
export async function createTcpProxy(targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>()
  let server = net.createServer()
  let port = 0

  const listen = async () => {
    server = net.createServer((client) => {
      const upstream = net.connect(targetPort, '127.0.0.1')
      for (const s of [client, upstream]) {
        sockets.add(s)
        s.on('close', () => sockets.delete(s))
        s.on('error', () => {
          client.destroy()
          upstream.destroy()
        })
      }
      client.pipe(upstream).pipe(client)
    })
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
    port = (server.address() as net.AddressInfo).port
  }

  const cut = async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    for (const s of sockets) s.destroy()
    await closed
  }

  await listen()
  return {
    get port() {
      return port
    },
    cut,
    restore: listen,
    close: async () => {
      if (server.listening) await cut()
    },
  }
}

/** A port on 127.0.0.1 where nothing listens (taken, then released). */
export async function deadPort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** A port that accepts connections and never answers: a hung database. */
export async function blackHole(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((s) => {
    sockets.add(s)
    s.on('error', () => {})
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
