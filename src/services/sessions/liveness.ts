import { performance } from 'node:perf_hooks'
import type { SessionLiveness } from '../../repos/sessions/sessions.js'
import type { ChangeBus } from '../revocations/change-bus.js'

export interface LivenessCacheOptions {
  bus: Pick<ChangeBus, 'subscribe' | 'trusted'>
  /** the database read the cache saves: a session that is not revoked, with its user */
  load(sessionId: string): Promise<SessionLiveness | undefined>
  /** a safety net only: changes invalidate entries at once (default 30 s) */
  maxAgeMs?: number
  maxEntries?: number
}

/**
 * The bearer guard's session-and-user read, remembered in memory (SPEC §11)
 * and forgotten on every change the bus delivers: from this process at once,
 * from other instances and workers through Redis, PostgreSQL or IPC. While
 * the bus cannot vouch for those (disconnected), every lookup reads the
 * database; when it reconnects everything is forgotten. A read that overlaps
 * a change is used but not remembered (the generation check), so an entry
 * never outlives a change that was committed after it was read.
 */
export function createLivenessCache(o: LivenessCacheOptions) {
  const maxAgeMs = o.maxAgeMs ?? 30_000
  const maxEntries = o.maxEntries ?? 100_000
  const bySid = new Map<string, { value: SessionLiveness; storedAt: number }>()
  const byUser = new Map<string, Set<string>>()
  let generation = 0

  function forget(sid: string) {
    const hit = bySid.get(sid)
    if (!hit) return
    bySid.delete(sid)
    const sids = byUser.get(hit.value.user.id)
    sids?.delete(sid)
    if (sids?.size === 0) byUser.delete(hit.value.user.id)
  }

  function clear() {
    generation++
    bySid.clear()
    byUser.clear()
  }

  function remember(sid: string, value: SessionLiveness) {
    if (bySid.size >= maxEntries) {
      const oldest = bySid.keys().next()
      if (!oldest.done) forget(oldest.value)
    }
    bySid.set(sid, { value, storedAt: performance.now() })
    const sids = byUser.get(value.user.id) ?? new Set<string>()
    sids.add(sid)
    byUser.set(value.user.id, sids)
  }

  o.bus.subscribe({
    changes(changes) {
      generation++
      for (const c of changes) {
        if ('sid' in c) forget(c.sid)
        else for (const sid of [...(byUser.get(c.sub) ?? [])]) forget(sid)
      }
    },
    doubt: clear,
  })

  return {
    async find(sessionId: string): Promise<SessionLiveness | undefined> {
      if (!o.bus.trusted) return o.load(sessionId)
      const hit = bySid.get(sessionId)
      if (hit && performance.now() - hit.storedAt < maxAgeMs) return hit.value
      const seen = generation
      const value = await o.load(sessionId)
      if (value && seen === generation && o.bus.trusted) remember(sessionId, value)
      return value
    },
    /** Forget everything: after a change made outside Keygate (SQL by hand, a restore). */
    clear,
    get size() {
      return bySid.size
    },
  }
}
