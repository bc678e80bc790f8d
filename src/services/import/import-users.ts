import type { Clock } from '../../domain/time.js'
import { type NewUser, normalizeEmail, normalizeUsername } from '../../domain/user.js'
import type { UsersRepo } from '../../repos/accounts/users.js'
import type { Transact } from '../../repos/support/transaction.js'
import type { HashProblem } from '../crypto/cost-caps.js'
import type { PasswordHasher } from '../crypto/passwords.js'
import type { RawRow } from './parse.js'
import { toNewUser } from './rows.js'

export interface BadRow {
  line: number
  reason: string
}

export interface ImportOptions {
  /** import the good rows and report the rest; by default one bad row imports nothing */
  skipInvalid?: boolean
  /** called with the number of rows read so far, every `progressEvery` rows */
  onProgress?: (rows: number) => void
  progressEvery?: number
}

export interface ImportReport {
  rows: number
  imported: number
  /** rows whose email already has an account (case-insensitively): re-runs are idempotent */
  skipped: number
  invalid: BadRow[]
  /** false when a bad row rolled the whole import back */
  committed: boolean
}

const BATCH = 1000

class RollBack extends Error {}

export interface ImportUsersDeps {
  /** the whole import is one transaction (repos/transaction.ts) */
  transact: Transact
  hasher: Pick<PasswordHasher, 'hashProblem'>
  clock: Clock
}

/** Imports users exported from another app, keeping their password hashes (upgraded on login). */
export function createImportUsersService(deps: ImportUsersDeps) {
  const { transact, hasher, clock } = deps
  const hashProblem = (h: string) => hasher.hashProblem(h)

  return {
    async run(rows: AsyncIterable<RawRow>, options: ImportOptions = {}): Promise<ImportReport> {
      const { skipInvalid = false, onProgress, progressEvery = 10_000 } = options
      const report: ImportReport = {
        rows: 0,
        imported: 0,
        skipped: 0,
        invalid: [],
        committed: false,
      }
      const now = clock.now()
      const seenEmails = new Map<string, number>()
      const seenUsernames = new Map<string, number>()
      // Only while nothing is bad (or bad rows are skipped) is inserting worth it.
      const inserting = () => skipInvalid || report.invalid.length === 0

      const flush = async (repo: UsersRepo, batch: { line: number; user: NewUser }[]) => {
        if (batch.length === 0) return
        const taken = await repo.findTaken(
          batch.map((b) => normalizeEmail(b.user.email)),
          batch.flatMap((b) => (b.user.username ? [normalizeUsername(b.user.username)] : [])),
        )
        const good: NewUser[] = []
        for (const { line, user } of batch) {
          if (taken.emails.has(normalizeEmail(user.email))) report.skipped++
          else if (user.username && taken.usernames.has(normalizeUsername(user.username)))
            report.invalid.push({ line, reason: 'username already taken by another account' })
          else good.push(user)
        }
        if (good.length > 0 && inserting()) {
          await repo.insertMany(good)
          report.imported += good.length
        }
      }

      try {
        // One transaction: with a bad row and no --skip-invalid, nothing stays.
        await transact(async ({ users: repo, audit }) => {
          let batch: { line: number; user: NewUser }[] = []
          for await (const row of rows) {
            report.rows++
            if (onProgress && report.rows % progressEvery === 0) onProgress(report.rows)
            const bad = checkRow(row, seenEmails, seenUsernames, hashProblem, now)
            if ('reason' in bad) {
              report.invalid.push(bad)
              continue
            }
            batch.push(bad)
            if (batch.length >= BATCH) {
              await flush(repo, batch)
              batch = []
            }
          }
          await flush(repo, batch)
          if (!inserting()) throw new RollBack()
          // One summary event, not one per user: an import can be millions of rows.
          const { imported, skipped } = report
          const details = { rows: report.rows, imported, skipped, invalid: report.invalid.length }
          await audit.record({ type: 'users_imported', details }, now)
        })
        report.committed = true
      } catch (err) {
        if (!(err instanceof RollBack)) throw err
        report.imported = 0
      }
      report.invalid.sort((a, b) => a.line - b.line)
      return report
    },
  }
}

/** A row's own problems, then duplicates of an earlier row of the same file. */
function checkRow(
  row: RawRow,
  seenEmails: Map<string, number>,
  seenUsernames: Map<string, number>,
  hashProblem: (h: string) => HashProblem | undefined,
  now: Date,
): BadRow | { line: number; user: NewUser } {
  if (row.error || !row.fields) return { line: row.line, reason: row.error ?? 'unreadable row' }
  const { user, problems } = toNewUser(row.fields, hashProblem, now)
  if (!user) return { line: row.line, reason: problems.join('; ') }
  const email = normalizeEmail(user.email)
  const username = user.username && normalizeUsername(user.username)
  const emailLine = seenEmails.get(email)
  if (emailLine !== undefined)
    return { line: row.line, reason: `duplicate email (first on line ${emailLine})` }
  const usernameLine = username ? seenUsernames.get(username) : undefined
  if (usernameLine !== undefined)
    return { line: row.line, reason: `duplicate username (first on line ${usernameLine})` }
  seenEmails.set(email, row.line)
  if (username) seenUsernames.set(username, row.line)
  return { line: row.line, user }
}
