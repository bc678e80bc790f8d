/** What the parsers yield and throw, shared by the CSV and JSON readers. */

export interface RawRow {
  /** 1-based line where the row starts in the file */
  line: number
  /** column → value, column names lower-cased; absent when `error` is set */
  fields?: Record<string, unknown>
  /** why the row could not even be read */
  error?: string
}

/** A problem with the file as a whole (no header, missing columns): nothing can be imported. */
export class ImportFileError extends Error {
  override name = 'ImportFileError'
}
