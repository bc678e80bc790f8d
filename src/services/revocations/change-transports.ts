import { createRequire } from 'node:module'
import type { Database } from '../../db/database.js'
import type { Transport, TransportHandlers } from './change-bus.js'

const RETRY_MIN_MS = 250
const RETRY_MAX_MS = 5000

/**
 * Redis pub/sub (REDIS_URL): one connection subscribes, another publishes.
 * While the subscriber is down nothing is trusted; when it is back, listeners
 * are told to forget, since what was published meanwhile is lost.
 */
export function redisTransport(url: string, channel: string) {
  return (h: TransportHandlers): Transport => {
    const { Redis } = createRequire(import.meta.url)('ioredis') as typeof import('ioredis')
    const options = { connectTimeout: 2000, maxRetriesPerRequest: 1, keepAlive: 10_000 }
    const sub = new Redis(url, options)
    const pub = new Redis(url, { ...options, commandTimeout: 2000 })
    let connected = false
    let closing = false
    const lost = () => {
      if (connected) h.doubt()
      connected = false
    }
    // Failures are handled through the events below; without a listener ioredis logs each one.
    sub.on('error', () => {})
    pub.on('error', () => {})
    sub.on('close', lost)
    sub.on('end', lost)
    sub.on('message', (ch: string, message: string) => {
      if (ch === channel) h.receive(message)
    })
    sub.on('ready', () => {
      sub.subscribe(channel).then(
        () => {
          if (closing) return
          connected = true
          h.doubt()
        },
        () => sub.disconnect(true),
      )
    })
    return {
      echoes: true,
      get connected() {
        return connected
      },
      async send(message) {
        await pub.publish(channel, message).catch(() => {})
      },
      async close() {
        closing = true
        connected = false
        sub.disconnect()
        pub.disconnect()
      },
    }
  }
}

/** PostgreSQL LISTEN/NOTIFY on a connection of its own, re-established with backoff. */
export function postgresTransport(database: Database, channel: string) {
  return (h: TransportHandlers): Transport => {
    const { listen, notify } = database
    if (!listen || !notify) throw new Error('postgresTransport needs a PostgreSQL database')
    let connected = false
    let closed = false
    let stop: (() => Promise<void>) | undefined
    let retryMs = RETRY_MIN_MS
    let timer: NodeJS.Timeout | undefined
    const connect = () => {
      timer = undefined
      listen(channel, h.receive, () => {
        connected = false
        stop = undefined
        h.doubt()
        schedule()
      }).then(async (s) => {
        if (closed) return s()
        stop = s
        connected = true
        retryMs = RETRY_MIN_MS
        h.doubt()
      }, schedule)
    }
    const schedule = () => {
      if (closed) return
      timer = setTimeout(connect, retryMs).unref()
      retryMs = Math.min(retryMs * 2, RETRY_MAX_MS)
    }
    connect()
    return {
      echoes: true,
      get connected() {
        return connected
      },
      async send(message) {
        await notify(channel, message).catch(() => {})
      },
      async close() {
        closed = true
        connected = false
        if (timer) clearTimeout(timer)
        await stop?.()
      },
    }
  }
}

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
      async send(message) {
        for (const other of hub) if (other !== h) other.receive(message)
      },
      async close() {
        hub.delete(h)
      },
    }
  }
}

type Connect = (h: TransportHandlers) => Transport

/**
 * The in-process hub and a transport to other processes together: instances
 * sharing a handle hear each other synchronously, the rest through `remote`,
 * which alone decides whether the bus is connected.
 */
export function alongside(local: Connect, remote: Connect): Connect {
  return (h) => {
    const near = local(h)
    const far = remote(h)
    return {
      echoes: far.echoes,
      get connected() {
        return far.connected
      },
      async send(message) {
        await Promise.all([near.send(message), far.send(message)])
      },
      async close() {
        await Promise.all([near.close(), far.close()])
      },
    }
  }
}

/** The message WEB_CONCURRENCY workers exchange through the cluster primary (cluster.ts relays it). */
export interface ChangeMessage {
  keygateChanges: string
}

export const isChangeMessage = (m: unknown): m is ChangeMessage =>
  typeof m === 'object' && m !== null && typeof (m as ChangeMessage).keygateChanges === 'string'

/**
 * Between the workers of one cluster on SQLite (no Redis): through the
 * primary's IPC channel, which relays each message to the other workers.
 */
export function ipcTransport() {
  return (h: TransportHandlers): Transport => {
    const onMessage = (m: unknown) => {
      if (isChangeMessage(m)) h.receive(m.keygateChanges)
    }
    const onDisconnect = () => h.doubt()
    process.on('message', onMessage)
    process.on('disconnect', onDisconnect)
    return {
      get connected() {
        return process.connected === true
      },
      send(message) {
        return new Promise<void>((resolve) => {
          if (!process.connected || !process.send) return resolve()
          process.send({ keygateChanges: message } satisfies ChangeMessage, undefined, {}, () =>
            resolve(),
          )
        })
      },
      async close() {
        process.off('message', onMessage)
        process.off('disconnect', onDisconnect)
      },
    }
  }
}
