/** Something readiness depends on: a name for the answer and a ping that rejects when it is down. */
export interface Dependency<N extends string> {
  name: N
  ping(): Promise<void>
}

export interface Readiness<N extends string> {
  /** names of the dependencies that failed, empty when ready */
  failed: N[]
  /** why each failed (names host and port): for the operator's log, never the response */
  reasons: Record<string, string>
}

/** /readyz's check: every dependency pinged at once (the database; Redis when it holds the throttles). */
export function createReadinessService<N extends string>(dependencies: Dependency<N>[]) {
  return {
    async check(): Promise<Readiness<N>> {
      const results = await Promise.allSettled(dependencies.map((d) => d.ping()))
      const readiness: Readiness<N> = { failed: [], reasons: {} }
      results.forEach((r, i) => {
        const name = dependencies[i]?.name
        if (r.status === 'fulfilled' || name === undefined) return
        readiness.failed.push(name)
        readiness.reasons[name] = (r.reason as Error)?.message ?? String(r.reason)
      })
      return readiness
    },
  }
}
