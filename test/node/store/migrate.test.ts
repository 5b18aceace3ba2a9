import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { keysEqual } from '../../../cafs/keys.js'
import { manifestOfBytes } from '../../../cafs/manifest.js'
import type { Manifest } from '../../../cafs/types.js'
import { MandateBook } from '../../../node/mandates/index.js'
import { concat, seal, u64Bytes, utf8, Writer } from '../../../node/store/codec.js'
import { SCHEMA_KEY, schemaValue } from '../../../node/store/db.js'
import {
  createKeyFile,
  DB_DIR_NAME,
  FileRepository,
  type KvController,
  openDataDir,
  openLevelController
} from '../../../node/store/index.js'
import { BUYER, T0, tempDir } from './helpers.js'

const random = (n: number) => new Uint8Array(randomBytes(n))
const ART = 'net.bitwrk/gorays/0'

/** Three distinct small files. */
function threeFiles(): Manifest[] {
  return [1, 2, 3].map((i) => manifestOfBytes(new Uint8Array(100 + i).fill(i)))
}

/** Every key of the database below `kv` whose first byte is `byte`. */
async function keysOf(kv: KvController, byte: number): Promise<Uint8Array[]> {
  const out: Uint8Array[] = []
  for await (const [k] of kv.entries({ gte: Uint8Array.of(byte), lt: Uint8Array.of(byte + 1) })) out.push(k)
  return out
}

/**
 * Writes a data directory as the code of schema 2 did (issue 12.1): the file index in buckets
 * 0x50/0x51 and, in the same two bytes, the mandates (key 0x50 ‖ u64 id, MAN-2 payload) and
 * their id counter (key 0x51 ‖ `next`). Written byte by byte, independent of today's code.
 */
async function writeSchemaTwoDir(dir: string, files: readonly Manifest[]): Promise<void> {
  await createKeyFile(dir, BUYER.toWif())
  const kv = await openLevelController(join(dir, DB_DIR_NAME))
  try {
    await kv.batch([{ type: 'put', key: SCHEMA_KEY, value: schemaValue(2) }], { sync: true })
    // the file layout of schema 2 is today's (node/store/files.ts), written by its repository
    const repo = new FileRepository(kv)
    for (const [i, m] of files.entries()) await repo.put(m, T0 + i)
    const mandate = (id: number, side: 0 | 1, price: string, trades: number) => {
      const key = concat(Uint8Array.of(0x50), u64Bytes(id))
      const payload = new Writer().u8(side).str(ART).str(price).u64(T0).u8(1).u32(trades).u8(0).finish()
      return { type: 'put' as const, key, value: seal(key, payload) }
    }
    const seqKey = concat(Uint8Array.of(0x51), utf8('next'))
    await kv.batch(
      [
        mandate(1, 0, 'mBTC 1', 3),
        mandate(2, 1, 'uBTC 5', 1),
        // id 4 was granted and revoked: the counter says 5, so 4 must never come back
        mandate(3, 0, 'mBTC 2', 7),
        { type: 'put', key: seqKey, value: seal(seqKey, new Writer().u64(5).finish()) }
      ],
      { sync: true }
    )
  } finally {
    await kv.close()
  }
}

describe('node/store schema migration', () => {
  let root: string
  beforeEach(async () => {
    root = await tempDir()
  })
  afterEach(async () => {
    await rm(root, { recursive: true, force: true })
  })

  it('keeps mandates and known files apart in one database (issue 12.1)', async () => {
    const dd = await openDataDir(join(root, 'd'), { nowMs: T0, random, maxFiles: 3 })
    try {
      const files = threeFiles()
      for (const [i, m] of files.entries()) await dd.files.put(m, T0 + i)
      const { book } = await MandateBook.open(dd.kv)
      await book.grant({ article: ART, side: 'BUY', price: 'mBTC 1', trades: 2 }, T0)
      await book.grant({ article: ART, side: 'SELL', price: 'uBTC 5' }, T0)
      const again = await MandateBook.open(dd.kv)
      assert.deepEqual(again.corrupt, [], 'file records are no mandates')
      assert.deepEqual(
        again.book.list().map((m) => m.id),
        [1, 2]
      )
      // the bound counts files only: a fourth file forgets exactly the oldest one
      assert.equal(await dd.files.put(manifestOfBytes(new Uint8Array(50).fill(9)), T0 + 10), 1)
      assert.equal(await dd.files.get((files[0] as Manifest).fileKey), undefined)
      for (const m of files.slice(1)) assert.ok(await dd.files.get(m.fileKey))
      const third = await again.book.grant({ article: ART, side: 'BUY', price: 'mBTC 1' }, T0)
      assert.equal(third.id, 3, 'the mandate counter survived the eviction')
    } finally {
      await dd.close()
    }
  })

  it('repairs a data directory written by schema 2 without losing a mandate or a file record', async () => {
    const dir = join(root, 'old')
    const files = threeFiles()
    await writeSchemaTwoDir(dir, files)

    const dd = await openDataDir(dir, { nowMs: T0, maxFiles: 3 })
    try {
      assert.deepEqual(dd.report.migration, { from: 2, to: 3, mandates: 3, mandateSeq: 1, unknown: 0 })
      assert.deepEqual(await dd.kv.get(SCHEMA_KEY), schemaValue(3))
      const { book, corrupt } = await MandateBook.open(dd.kv)
      assert.deepEqual(corrupt, [])
      assert.deepEqual(
        book.list().map((m) => [m.id, m.side, m.article, m.tradesLeft, m.createdMs]),
        [
          [1, 'BUY', ART, 3, T0],
          [2, 'SELL', ART, 1, T0],
          [3, 'BUY', ART, 7, T0]
        ]
      )
      for (const m of files) {
        const got = await dd.files.get(m.fileKey)
        assert.ok(got !== undefined && keysEqual(got.fileKey, m.fileKey))
      }
      // nothing of the mandates is left in the file buckets: each holds the three files only
      assert.equal((await keysOf(dd.kv, 0x50)).length, 3)
      assert.equal((await keysOf(dd.kv, 0x51)).length, 3)
      const next = await book.grant({ article: ART, side: 'BUY', price: 'mBTC 1' }, T0)
      assert.equal(next.id, 5, 'a revoked id is not reused')
    } finally {
      await dd.close()
    }

    // a second open finds schema 3 and migrates nothing
    const again = await openDataDir(dir, { nowMs: T0 })
    try {
      assert.equal(again.report.migration, undefined)
      const { book, corrupt } = await MandateBook.open(again.kv)
      assert.deepEqual(corrupt, [])
      assert.deepEqual(
        book.list().map((m) => m.id),
        [1, 2, 3, 5]
      )
    } finally {
      await again.close()
    }
  })
})
