/**
 * The value, or the test fails here saying what was missing, rather than with
 * a TypeError further on. For index reads under noUncheckedIndexedAccess.
 */
export function must<T>(value: T | null | undefined, what = 'a value'): T {
  if (value === undefined || value === null) throw new Error(`expected ${what}, found ${value}`)
  return value
}
