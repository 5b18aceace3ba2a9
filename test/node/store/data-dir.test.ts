import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { SCHEMA_KEY, SCHEMA_VERSION, schemaValue } from '../../../node/store/db.js'
import {
  createKeyFile,
  DB_DIR_NAME,
  KEY_FILE_NAME,
  loadKeyFile,
  loadOrCreateIdentity,
  openDataDir,
  openLevelController,
  StoreCode
} from '../../../node/store/index.js'
import { rejectsWithCode } from '../../support/errors.js'
import { BUYER, bid, T0, tempDir } from './helpers.js'

const random = (n: number) => new Uint8Array(randomBytes(n))

describe('node/store data directory and key file', () => {
  let root: string
  beforeEach(async () => {
    root = await tempDir()
  })
  afterEach(async () => {
    await rm(root, { recursive: true, force: true })
  })

  it('creates the key file exclusively with mode 0600 in a 0700 directory, and never overwrites it', async () => {
    const dir = join(root, 'a', 'data')
    const path = await createKeyFile(dir, BUYER.toWif())
    assert.equal(path, join(dir, KEY_FILE_NAME))
    assert.equal(await readFile(path, 'utf8'), BUYER.toWif())
    assert.equal((await stat(path)).mode & 0o777, 0o600)
    assert.equal((await stat(dir)).mode & 0o777, 0o700)
    await rejectsWithCode(() => createKeyFile(dir, BUYER.toWif()), StoreCode.KEY_EXISTS)
    assert.equal((await loadKeyFile(dir)).identity.address, BUYER.address)
  })

  it('refuses a key file that group or others can read, and a missing or corrupt one', async () => {
    const dir = join(root, 'k')
    await createKeyFile(dir, BUYER.toWif())
    await chmod(join(dir, KEY_FILE_NAME), 0o640)
    await rejectsWithCode(() => loadKeyFile(dir), StoreCode.KEY_PERMISSIONS)
    await chmod(join(dir, KEY_FILE_NAME), 0o604)
    await rejectsWithCode(() => loadKeyFile(dir), StoreCode.KEY_PERMISSIONS)
    await rejectsWithCode(() => loadKeyFile(join(root, 'none')), StoreCode.KEY_MISSING)
    await writeFile(join(dir, KEY_FILE_NAME), 'not a wif', { mode: 0o600 })
    await chmod(join(dir, KEY_FILE_NAME), 0o600)
    await rejectsWithCode(() => loadKeyFile(dir), StoreCode.KEY_CORRUPT)
  })

  it('refuses a data directory that group or others can write', async () => {
    const dir = join(root, 'open')
    await mkdir(dir)
    await chmod(dir, 0o777)
    await rejectsWithCode(() => loadOrCreateIdentity(dir, random), StoreCode.KEY_PERMISSIONS)
  })

  it('creates a key on first open only when given a random source, then reuses it', async () => {
    const dir = join(root, 'node')
    await rejectsWithCode(() => openDataDir(dir, { nowMs: T0 }), StoreCode.KEY_MISSING)
    const first = await openDataDir(dir, { nowMs: T0, random })
    assert.equal(first.report.keyCreated, true)
    await first.bids.put(bid('b1', T0 + 10))
    await first.bids.put(bid('b2', T0 + 1000))
    await first.settings.follow('net.bitwrk/gorays/0', T0)
    await first.close()
    await first.close()
    const second = await openDataDir(dir, { nowMs: T0 + 10 })
    try {
      assert.equal(second.report.keyCreated, false)
      assert.equal(second.identity.address, first.identity.address)
      assert.deepEqual(second.report.pruned, { bids: 1, usedMarks: 0 })
      assert.deepEqual(
        (await second.bids.list()).items.map((b) => b.id),
        ['b2']
      )
      assert.deepEqual(
        (await second.settings.subscriptions()).items.map((s) => s.article),
        ['net.bitwrk/gorays/0']
      )
    } finally {
      await second.close()
    }
  })

  it('refuses a second open of the same directory with STORE_LOCKED', async () => {
    const dir = join(root, 'node')
    const data = await openDataDir(dir, { nowMs: T0, random })
    try {
      await rejectsWithCode(() => openDataDir(dir, { nowMs: T0 }), StoreCode.LOCKED)
    } finally {
      await data.close()
    }
  })

  it('refuses a database of another schema version and leaves it untouched', async () => {
    const dir = join(root, 'node')
    await (await openDataDir(dir, { nowMs: T0, random })).close()
    const kv = await openLevelController(join(dir, DB_DIR_NAME))
    await kv.batch([{ type: 'put', key: SCHEMA_KEY, value: schemaValue(SCHEMA_VERSION + 1) }])
    await kv.close()
    await rejectsWithCode(() => openDataDir(dir, { nowMs: T0 }), StoreCode.SCHEMA_MISMATCH)
    // The failed open closed the database again: it can be opened (and still holds the version).
    const again = await openLevelController(join(dir, DB_DIR_NAME))
    assert.deepEqual(await again.get(SCHEMA_KEY), schemaValue(SCHEMA_VERSION + 1))
    await again.close()
  })
})
