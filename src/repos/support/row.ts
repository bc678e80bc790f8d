/** Column values read back from either dialect, made uniform. */
export const toDate = (v: Date | string): Date => (v instanceof Date ? v : new Date(v))
export const toBool = (v: boolean | number): boolean => v === true || v === 1
export const bit = (v: boolean): number => (v ? 1 : 0)
export const iso = (d: Date): string => d.toISOString()
