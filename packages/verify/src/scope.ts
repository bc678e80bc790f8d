import { insufficientScope } from './errors.js'

/** The scopes a route needs: one name, a space-separated list, or an array. */
export type ScopeRequirement = string | readonly string[]

export function scopesOf(value: unknown): string[] {
  return typeof value === 'string' ? value.split(' ').filter(Boolean) : []
}

/** RFC 6750 §3.1: a valid token without every needed scope is a 403 naming them. */
export function requireScope(granted: string, needed: ScopeRequirement | undefined): void {
  const want = typeof needed === 'string' ? scopesOf(needed) : [...(needed ?? [])]
  if (want.length === 0) return
  const have = new Set(scopesOf(granted))
  if (!want.every((s) => have.has(s))) throw insufficientScope(want)
}
