import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import SQLite from 'better-sqlite3'
import pg from 'pg'
import { describe, expect, it, onTestFinished } from 'vitest'
import {
  DatabaseUnavailableError,
  describeDatabaseError,
  isDatabaseUnavailable,
} from '../../src/db/unavailable.js'
import { deadPort } from '../helpers/tcp-proxy.js'

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code })

describe('isDatabaseUnavailable', () => {
  const unavailable: [string, unknown][] = [
    ['connection refused', withCode('ECONNREFUSED')],
    ['connection reset', withCode('ECONNRESET')],
    ['connect timeout (socket)', withCode('ETIMEDOUT')],
    ['DNS failure', withCode('ENOTFOUND')],
    ['class 08 connection_failure', withCode('08006')],
    ['class 08 connection_does_not_exist', withCode('08003')],
    ['admin_shutdown (pg_terminate_backend)', withCode('57P01')],
    ['crash_shutdown', withCode('57P02')],
    ['cannot_connect_now (starting up)', withCode('57P03')],
    ['too_many_connections', withCode('53300')],
    ['statement_timeout', withCode('57014')],
    ['SQLITE_BUSY', withCode('SQLITE_BUSY')],
    ['SQLITE_BUSY_SNAPSHOT', withCode('SQLITE_BUSY_SNAPSHOT')],
    ['SQLITE_LOCKED', withCode('SQLITE_LOCKED')],
    ['SQLITE_CANTOPEN', withCode('SQLITE_CANTOPEN')],
    ['SQLITE_IOERR_WRITE', withCode('SQLITE_IOERR_WRITE')],
    ['pg: terminated unexpectedly', new Error('Connection terminated unexpectedly')],
    ['pg: connect timeout', new Error('Connection terminated due to connection timeout')],
    ['pg-pool: checkout timeout', new Error('timeout exceeded when trying to connect')],
    ['pg: query_timeout', new Error('Query read timeout')],
    [
      'pg: broken client',
      new Error('Client has encountered a connection error and is not queryable'),
    ],
    ['in a cause', new Error('wrapped', { cause: withCode('ECONNREFUSED') })],
    [
      'in an AggregateError',
      new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')], ''),
    ],
    ['already classified', new DatabaseUnavailableError('down')],
  ]
  for (const [label, err] of unavailable) {
    it(`is true for ${label}`, () => expect(isDatabaseUnavailable(err)).toBe(true))
  }

  const bugs: [string, unknown][] = [
    ['a unique violation', withCode('23505')],
    ['a syntax error', withCode('42601')],
    ['an undefined table', withCode('42P01')],
    ['bad credentials (configuration, not an outage)', withCode('28P01')],
    ['SQLITE_CONSTRAINT_UNIQUE', withCode('SQLITE_CONSTRAINT_UNIQUE')],
    ['SQLITE_ERROR', withCode('SQLITE_ERROR')],
    ['a TypeError', new TypeError('x is undefined')],
    ['a string', 'ECONNREFUSED'],
    ['null', null],
  ]
  for (const [label, err] of bugs) {
    it(`is false for ${label}`, () => expect(isDatabaseUnavailable(err)).toBe(false))
  }

  it('stops on a cycle of causes', () => {
    const a = new Error('a')
    const b = new Error('b', { cause: a })
    Object.assign(a, { cause: b })
    expect(isDatabaseUnavailable(a)).toBe(false)
  })
})

describe('real driver errors', () => {
  it('classifies node-postgres refusing to connect', async () => {
    const client = new pg.Client({
      connectionString: `postgres://u@127.0.0.1:${await deadPort()}/d`,
    })
    const err = await client.connect().catch((e: unknown) => e)
    expect(isDatabaseUnavailable(err)).toBe(true)
    expect(describeDatabaseError(err)).toMatch(/^connect ECONNREFUSED 127\.0\.0\.1:\d+$/)
  })

  it('classifies SQLITE_BUSY from better-sqlite3', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keygate-'))
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
    const file = join(dir, 'k.db')
    const a = new SQLite(file)
    const b = new SQLite(file, { timeout: 0 })
    onTestFinished(() => {
      a.close()
      b.close()
    })
    a.exec('create table t (x integer)')
    a.exec('begin immediate')
    let busy: unknown
    try {
      b.exec('insert into t values (1)')
    } catch (e) {
      busy = e
    }
    a.exec('rollback')
    expect(isDatabaseUnavailable(busy)).toBe(true)
  })
})

describe('describeDatabaseError', () => {
  it('falls back to the first inner error, then to the code', () => {
    expect(describeDatabaseError(new AggregateError([new Error('inner')], ''))).toBe('inner')
    expect(describeDatabaseError(withCode('ECONNREFUSED', ''))).toBe('ECONNREFUSED')
  })
})
