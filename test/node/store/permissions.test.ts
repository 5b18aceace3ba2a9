import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { chmod, chown, mkdir, readdir, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { CHUNK_MAX_SIZE } from '../../../cafs/chunker.js'
import { sha256 } from '../../../cafs/keys.js'
import { LevelChunkStore } from '../../../cafs/store/level.js'
import { createBitwrkNode } from '../../../node/node.js'
import {
  CHUNKS_DIR_NAME,
  checkSchema,
  createKeyFile,
  DB_DIR_NAME,
  type OwnerOptions,
  openDataDir,
  openLevelController,
  repairDataDir,
  StoreCode
} from '../../../node/store/index.js'
import { waitFor } from '../../../node/testing.js'
import { rejectsWithCode } from '../../support/errors.js'
import { BUYER, modesBelow, sharedEntries, T0, tempDir } from './helpers.js'

const random = (n: number) => new Uint8Array(randomBytes(n))

/** The process umask, read without changing it. */
function currentUmask(): number {
  const u = process.umask(0o022)
  process.umask(u)
  return u
}

/**
 * Makes `path` another user's: really (chown to nobody) when the tests run as root, else by
 * checking as another uid (the same comparison: the entry's owner is not the checking user).
 */
async function giveAway(path: string): Promise<OwnerOptions> {
  if (process.geteuid?.() === 0) {
    await chown(path, 65534, 65534)
    return {}
  }
  return { uid: (process.geteuid?.() ?? 0) + 1 }
}

/** A database and a chunk store written with the default umask, as versions before 0700/0600 left them. */
async function legacyStores(dir: string): Promise<void> {
  const old = process.umask(0o022)
  try {
    const kv = await openLevelController(join(dir, DB_DIR_NAME))
    await checkSchema(kv)
    await kv.close()
    const chunks = await LevelChunkStore.open({ path: join(dir, CHUNKS_DIR_NAME) })
    const bytes = random(1024)
    await chunks.put(sha256(bytes), bytes)
    await chunks.close()
  } finally {
    process.umask(old)
  }
}

/** A 0755 data directory (with a key file when `withKey`) and {@link legacyStores}; returns `dir`. */
async function legacyDataDir(dir: string, withKey: boolean): Promise<string> {
  await mkdir(dir)
  if (withKey) await createKeyFile(dir, BUYER.toWif())
  await chmod(dir, 0o755)
  await legacyStores(dir)
  return dir
}

describe('node/store data directory permissions', function () {
  this.timeout(60_000)
  let root: string
  beforeEach(async () => {
    root = await tempDir()
  })
  afterEach(async () => {
    await rm(root, { recursive: true, force: true })
  })

  it('repairs a data directory of ours that others can read, with db/ and chunks/, and reports it', async () => {
    const dir = await legacyDataDir(join(root, 'data'), true)
    // The test's premise: LevelDB alone leaves 0755 directories and 0644 files.
    assert.ok((await sharedEntries(dir)).some((l) => l.startsWith('./db/') && l.endsWith(' 644')))
    const opened = await openDataDir(dir, { nowMs: T0 })
    try {
      assert.equal(opened.report.permissions.dirWas, '0755')
      assert.ok(
        opened.report.permissions.entriesRepaired >= 4,
        String(opened.report.permissions.entriesRepaired)
      )
      assert.deepEqual(await sharedEntries(dir), [])
      assert.equal((await stat(dir)).mode & 0o777, 0o700)
      assert.equal((await stat(join(dir, DB_DIR_NAME))).mode & 0o777, 0o700)
      assert.equal((await stat(join(dir, DB_DIR_NAME, 'CURRENT'))).mode & 0o777, 0o600)
    } finally {
      await opened.close()
    }
    // Opened again: nothing left to repair.
    const again = await openDataDir(dir, { nowMs: T0 })
    await again.close()
    assert.deepEqual(again.report.permissions, { dirWas: null, entriesRepaired: 0 })
  })

  it('keeps db/ and chunks/ owner-only, also the tables and logs LevelDB writes later, and restores the umask', async () => {
    const dir = join(root, 'node')
    const umaskBefore = currentUmask()
    const node = await createBitwrkNode({ dataDir: dir, random })
    const dbDir = join(dir, DB_DIR_NAME)
    const chunkDir = join(dir, CHUNKS_DIR_NAME)
    const initial = new Set([...(await readdir(dbDir)), ...(await readdir(chunkDir))])
    try {
      assert.ok(node.kv !== undefined)
      // 12 MiB of incompressible data in each store: three times LevelDB's 4 MiB write buffer,
      // so each switches to new .log files and flushes new .ldb tables from its compaction thread.
      for (let i = 0; i < 96; i++) {
        await node.kv.batch([{ type: 'put', key: Uint8Array.of(0x7f, i), value: random(CHUNK_MAX_SIZE) }])
        const bytes = random(CHUNK_MAX_SIZE)
        await node.chunks.put(sha256(bytes), bytes)
      }
      const tables = async (d: string): Promise<number> =>
        (await readdir(d)).filter((n) => n.endsWith('.ldb')).length
      await waitFor(async () => (await tables(dbDir)) > 0 && (await tables(chunkDir)) > 0, {
        timeoutMs: 30_000,
        intervalMs: 50,
        what: 'LevelDB to flush tables'
      })
      const later = [...(await readdir(dbDir)), ...(await readdir(chunkDir))].filter((n) => !initial.has(n))
      assert.ok(later.some((n) => n.endsWith('.ldb')) && later.some((n) => n.endsWith('.log')), later.join())
      assert.deepEqual(await sharedEntries(dir), [])
      assert.equal((await stat(dbDir)).mode & 0o777, 0o700)
      assert.equal((await stat(chunkDir)).mode & 0o777, 0o700)
    } finally {
      await node.stop()
    }
    assert.deepEqual(await sharedEntries(dir), [])
    assert.equal(currentUmask(), umaskBefore)
  })

  it('refuses a data directory or a store entry of another user and changes nothing', async () => {
    // Without a key: a refused directory must not get one either.
    const dir = await legacyDataDir(join(root, 'theirs'), false)
    const before = await modesBelow(dir)
    const table = join(dir, DB_DIR_NAME, 'CURRENT')
    const asOther = await giveAway(table)
    await rejectsWithCode(
      () => repairDataDir(dir, [DB_DIR_NAME, CHUNKS_DIR_NAME], asOther),
      StoreCode.DIR_OWNER
    )
    if (process.geteuid?.() === 0)
      await rejectsWithCode(() => openDataDir(dir, { nowMs: T0, random }), StoreCode.DIR_OWNER)
    assert.deepEqual(await modesBelow(dir), before)
    const other = join(root, 'other')
    await mkdir(other)
    const topAsOther = await giveAway(other)
    await rejectsWithCode(() => repairDataDir(other, [DB_DIR_NAME], topAsOther), StoreCode.DIR_OWNER)
    if (process.geteuid?.() === 0)
      await rejectsWithCode(() => openDataDir(other, { nowMs: T0, random }), StoreCode.DIR_OWNER)
    assert.deepEqual(await readdir(other), [])
  })

  it('refuses a store directory that group or others can write and changes nothing', async () => {
    const dir = await legacyDataDir(join(root, 'open'), true)
    await chmod(join(dir, CHUNKS_DIR_NAME), 0o777)
    const before = await modesBelow(dir)
    await rejectsWithCode(() => openDataDir(dir, { nowMs: T0 }), StoreCode.KEY_PERMISSIONS)
    assert.deepEqual(await modesBelow(dir), before)
  })
})
