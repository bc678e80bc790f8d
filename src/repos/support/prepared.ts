import type { Compilable, CompiledQuery, Kysely } from 'kysely'

/**
 * Compiles a query once and afterwards only swaps its parameters: Kysely
 * otherwise rebuilds and re-compiles the SQL on every call, on the bearer
 * guard's hot path (docs/decisions/guard-read-path.md). `build` receives a stand-in
 * value per argument; each must reach the SQL as a bound parameter (not be
 * transformed into something else), or preparing throws.
 */
export function prepareQuery<A extends string, R>(
  db: Kysely<any>,
  args: readonly A[],
  build: (params: Record<A, string>) => Compilable<R>,
): (values: Record<A, unknown>) => Promise<R[]> {
  const stand = Object.fromEntries(args.map((a) => [a, `\u0000${a}\u0000`])) as Record<A, string>
  const compiled = build(stand).compile()
  const slots = compiled.parameters.map((p) => args.find((a) => stand[a] === p))
  const missing = args.filter((a) => !slots.includes(a))
  if (missing.length > 0) throw new Error(`prepareQuery: ${missing.join(', ')} not bound`)
  const fixed = compiled.parameters
  return async (values) => {
    const parameters = slots.map((a, i) => (a === undefined ? fixed[i] : values[a]))
    const query: CompiledQuery<R> = { ...compiled, parameters }
    return (await db.executeQuery(query)).rows
  }
}
