import cluster from 'node:cluster'
import { AggregatorRegistry, type Registry } from 'prom-client'
import { KeygateError } from '../../errors.js'
import type { Scrape } from './metrics.js'

// A worker's /metrics asks the primary, which asks every worker (prom-client's
// own protocol, which waits 5 s for them) and answers with the sum.
const REQUEST = 'keygate:metrics-request'
const RESPONSE = 'keygate:metrics-response'
const WORKER_TIMEOUT_MS = 7000

interface Response {
  type: typeof RESPONSE
  id: number
  scrape?: Scrape
  error?: string
}

const pending = new Map<number, (response: Response) => void>()
let nextId = 0
let listening = false

function askPrimary(): Promise<Scrape> {
  if (!listening) {
    listening = true
    process.on('message', (message: Response) => {
      if (message?.type === RESPONSE) pending.get(message.id)?.(message)
    })
  }
  const id = nextId++
  return new Promise((resolve, reject) => {
    // A scrape that cannot cover every worker fails (503) rather than
    // silently reporting part of the cluster.
    const fail = () => {
      pending.delete(id)
      reject(new KeygateError('SERVICE_UNAVAILABLE'))
    }
    const timer = setTimeout(fail, WORKER_TIMEOUT_MS)
    pending.set(id, (response) => {
      clearTimeout(timer)
      pending.delete(id)
      if (response.scrape) resolve(response.scrape)
      else fail()
    })
    process.send?.({ type: REQUEST, id })
  })
}

/**
 * In a cluster worker (WEB_CONCURRENCY > 1): the worker answers the primary's
 * requests for `registry`, and its scrape covers all workers.
 */
export function clusterScrape(registry: Registry): () => Promise<Scrape> {
  AggregatorRegistry.setRegistries([registry])
  // Constructing one installs prom-client's answering listener in this worker (once).
  new AggregatorRegistry()
  return askPrimary
}

/**
 * In the cluster primary: answers workers' scrapes with every worker's
 * metrics summed (histograms and counters add up; prom-client's default
 * metrics carry their own aggregation). Returns the same scrape for the
 * primary's METRICS_PORT listener.
 */
export function aggregateWorkers(): () => Promise<Scrape> {
  const aggregator = new AggregatorRegistry()
  const scrape = async (): Promise<Scrape> => ({
    contentType: aggregator.contentType,
    body: await aggregator.clusterMetrics(),
  })
  cluster.on('message', (worker, message: { type?: string; id?: number }) => {
    if (message?.type !== REQUEST) return
    const reply = (fields: Partial<Response>) => {
      if (worker.isConnected()) worker.send({ type: RESPONSE, id: message.id, ...fields })
    }
    scrape().then(
      (result) => reply({ scrape: result }),
      (err: Error) => reply({ error: err.message }),
    )
  })
  return scrape
}
