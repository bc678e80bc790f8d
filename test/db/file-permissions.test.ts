import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'kysely'
import { afterEach, describe, expect, it } from 'vitest'
import { createDatabase } from '../../src/db/database.js'
import { migrateToLatest } from '../../src/db/migrate.js'
import { generateKeys, withDevSecret } from '../../src/services/keys/signing-keys.js'
import { testConfig } from '../helpers/config.js'

// Issue 14: the database, DATA_DIR and key files must not be world-readable.
const mode = (path: string) => statSync(path).mode & 0o777
let root: string
afterEach(() => rmSync(root, { recursive: true, force: true }))

describe('files Keygate creates', () => {
  it('a SQLite database: directory 0700, database, -wal and -shm 0600', async () => {
    root = mkdtempSync(join(tmpdir(), 'keygate-perm-'))
    const file = join(root, 'data', 'keygate.db')
    const database = createDatabase(`sqlite:${file}`)
    await migrateToLatest(database.db)
    await sql`select count(*) from users`.execute(database.db)
    expect(mode(join(root, 'data')).toString(8)).toBe('700')
    for (const f of [file, `${file}-wal`, `${file}-shm`]) expect(mode(f).toString(8), f).toBe('600')
    await database.close()
  })

  it('the dev secret and a generated key file: DATA_DIR 0700, files 0600', async () => {
    root = mkdtempSync(join(tmpdir(), 'keygate-perm-'))
    const dataDir = join(root, 'dev-data')
    withDevSecret(testConfig({ dataDir, secretKey: undefined }))
    expect(mode(dataDir).toString(8)).toBe('700')
    expect(mode(join(dataDir, 'secret.key')).toString(8)).toBe('600')

    const keysDir = join(root, 'keys-data')
    const { path } = await generateKeys(testConfig({ dataDir: keysDir, jwtAlgorithm: 'EdDSA' }))
    expect(mode(keysDir).toString(8)).toBe('700')
    expect(mode(path).toString(8)).toBe('600')
  })
})
