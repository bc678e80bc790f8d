import net from 'node:net'
import { describe, expect, it } from 'vitest'
import { API_HEADERS } from '../../src/http/plugins/response-headers.js'
import { listeningApp } from '../helpers/server.js'

/** Writes raw bytes to the server and reads until it closes the connection. */
function rawExchange(port: number, payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = ''
    const socket = net.connect(port, '127.0.0.1', () => socket.write(payload))
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      text += chunk
    })
    socket.on('close', () => resolve(text))
    socket.on('error', reject)
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer within 10 s')))
  })
}

function parse(raw: string) {
  const [head = '', body = ''] = raw.split('\r\n\r\n')
  const [statusLine = '', ...lines] = head.split('\r\n')
  const headers = Object.fromEntries(
    lines.map((l) => [
      l.slice(0, l.indexOf(':')).toLowerCase(),
      l.slice(l.indexOf(':') + 1).trim(),
    ]),
  )
  return { status: Number(statusLine.split(' ')[1]), headers, body: JSON.parse(body) }
}

// What Node's parser refuses never reaches a route; the answer keeps the API's shape.
describe('requests refused by the HTTP parser', () => {
  it.each([
    ['a malformed request line', 'GARBAGE\r\n\r\n', 400, 'Bad Request'],
    [
      'a header without a colon',
      'GET /healthz HTTP/1.1\r\nHost: x\r\nbroken\r\n\r\n',
      400,
      'Bad Request',
    ],
    [
      'headers over 16 KiB',
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      431,
      'Request Header Fields Too Large',
    ],
  ])(
    '%s: %i {detail}, security headers, connection closed',
    async (_what, payload, status, detail) => {
      const { app } = await listeningApp()
      const { port } = app.server.address() as net.AddressInfo
      const res = parse(await rawExchange(port, payload))
      expect(res.status).toBe(status)
      expect(res.body).toEqual({ detail })
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8')
      expect(res.headers.connection).toBe('close')
      for (const [name, value] of Object.entries(API_HEADERS)) expect(res.headers[name]).toBe(value)
      // The server is unharmed.
      expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200)
    },
  )
})
