import net from 'node:net'
import { describe, expect, it, onTestFinished } from 'vitest'
import { listeningApp } from '../helpers/server.js'

// Issue 14: ~20k idle sockets from one client made the server reset everyone
// else. Real sockets against a listening app: a per-client cap and a total cap.
function open(port: number, localAddress = '127.0.0.1'): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress }, () => resolve(socket))
    socket.on('error', () => {})
    socket.once('error', reject)
    onTestFinished(() => void socket.destroy())
  })
}

/** Whether the socket gets an HTTP answer to GET /healthz (false: closed unanswered). */
function served(socket: net.Socket): Promise<boolean> {
  return new Promise((resolve) => {
    let data = ''
    socket.on('data', (d) => {
      data += d
      if (data.includes('\r\n\r\n')) resolve(data.startsWith('HTTP/1.1 200'))
    })
    socket.once('close', () => resolve(data.startsWith('HTTP/1.1 200')))
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')
  })
}

const portOf = (app: { server: net.Server }) => (app.server.address() as net.AddressInfo).port

describe('connection limits', () => {
  it('closes a client’s sockets beyond MAX_CONNECTIONS_PER_CLIENT; other clients are served', async () => {
    const { app } = await listeningApp({ maxConnectionsPerClient: 5 })
    const port = portOf(app)
    const mine = await Promise.all(Array.from({ length: 5 }, () => open(port)))
    for (const s of mine) expect(await served(s)).toBe(true)
    // The sixth, idle or not, is closed at once.
    expect(await served(await open(port))).toBe(false)
    // Someone else (another loopback address) is untouched by the first client's cap.
    expect(await served(await open(port, '127.0.0.2'))).toBe(true)
    // A socket closed frees its slot.
    mine[0]!.destroy()
    await new Promise((r) => setTimeout(r, 50))
    expect(await served(await open(port))).toBe(true)
  })

  it('drops sockets beyond MAX_CONNECTIONS, and keeps the per-client cap off behind a proxy', async () => {
    const { app } = await listeningApp({
      maxConnections: 6,
      maxConnectionsPerClient: 2,
      trustProxy: ['127.0.0.1'],
    })
    const port = portOf(app)
    expect(app.server.maxConnections).toBe(6)
    const sockets = await Promise.all(Array.from({ length: 6 }, () => open(port)))
    for (const s of sockets) expect(await served(s)).toBe(true)
    expect(await served(await open(port, '127.0.0.3'))).toBe(false)
  })

  it('defaults: 4096 sockets per process, 256 per client', async () => {
    const { app, config } = await listeningApp()
    expect(config.maxConnections).toBe(4096)
    expect(config.maxConnectionsPerClient).toBe(256)
    expect(app.server.maxConnections).toBe(4096)
  })
})
