import { Level } from 'level'
import { CafsCode, cafsError } from '../errors.js'
import { checkKey, keyFromHex, keysEqual, keyToHex, sha256 } from '../keys.js'
import type { AbortOptions, ChunkStore, Key, StoreStats } from '../types.js'
import type { VerifiedChunk } from '../verified.js'
import { checkChunkSize, checkVerified, verifyChunk } from './verify.js'

/**
 * A chunk store in LevelDB (level 10 / classic-level), CAFS-11…CAFS-14 and CAFS-17. Layout, one
 * bucket per one-byte prefix (big-endian integers):
 *
 * | key | value |
 * |---|---|
 * | `00` `schema` | ASCII {@link LEVEL_STORE_SCHEMA} |
 * | `01` chunkKey(32) | chunk bytes |
 * | `02` chunkKey(32) | size u32, last-use sequence u64 |
 * | `03` chunkKey(32) | pin count u32 (absent = 0) |
 *
 * A chunk's bytes and its metadata are written in ONE atomic batch (with any evictions it
 * causes), so after a crash a chunk is either complete and verified or absent. An in-memory
 * index (about 100 bytes per chunk) answers `has`, keeps the LRU order and the byte budget.
 */

/** Schema version string checked on open (`CAFS_STORE_SCHEMA` on mismatch). */
export const LEVEL_STORE_SCHEMA = 'bitwrk-cafs-chunks/1'

const P_SCHEMA = 0x00
const P_DATA = 0x01
const P_META = 0x02
const P_PIN = 0x03
const SCHEMA_KEY = Uint8Array.from([P_SCHEMA, ...Buffer.from('schema', 'ascii')])
const SCHEMA_VALUE = new TextEncoder().encode(LEVEL_STORE_SCHEMA)

/** One write of a batch. */
export type ChunkDbOp = { type: 'put'; key: Uint8Array; value: Uint8Array } | { type: 'del'; key: Uint8Array }

/**
 * The few LevelDB operations the store uses, with Uint8Array keys and values: satisfied by a
 * `Level` or a sublevel opened with `keyEncoding: 'view', valueEncoding: 'view'`.
 */
export interface ChunkDb {
  get(key: Uint8Array): Promise<Uint8Array | undefined>
  batch(ops: ChunkDbOp[]): Promise<void>
  iterator(options?: { gte?: Uint8Array; lt?: Uint8Array }): AsyncIterable<[Uint8Array, Uint8Array]>
  close(): Promise<void>
}

/** Options of {@link LevelChunkStore.open}. */
export interface LevelChunkStoreOptions {
  /** Directory of a database the store opens and closes itself. */
  path?: string
  /** Or an open database/sublevel (view encodings) owned by the caller; `close` leaves it open. */
  db?: ChunkDb
  /** LevelDB tuning when the store opens `path` itself (defaults: {@link LEVEL_STORE_TUNING}). */
  tuning?: LevelStoreTuning
  /** Most bytes of chunk data held; `Infinity` (default) for no limit. */
  budgetBytes?: number
  /**
   * Re-hash chunks read by `get` (default true): a chunk damaged on disk is deleted and reported
   * absent, so it is fetched again instead of served (DESIGN.md invariant 8).
   */
  verifyOnGet?: boolean
}

/** The classic-level options the store exposes. */
export interface LevelStoreTuning {
  writeBufferSize?: number
  maxFileSize?: number
  cacheSize?: number
  compression?: boolean
}

/**
 * Defaults for a chunk database: LevelDB's own (4 MiB write buffer, 2 MiB tables). Measured on
 * the 1 GiB import of the cafs-memory bench: 8 MiB buffers and tables write about 1.6× faster
 * but add about 40 MiB of resident (mostly memory-mapped table) pages, over its 100 MiB target.
 */
export const LEVEL_STORE_TUNING: Readonly<LevelStoreTuning> = {}

function prefixed(prefix: number, key: Key): Uint8Array {
  const k = new Uint8Array(33)
  k[0] = prefix
  k.set(key, 1)
  return k
}

function encodeMeta(size: number, seq: number): Uint8Array {
  const b = new Uint8Array(12)
  const dv = new DataView(b.buffer)
  dv.setUint32(0, size)
  dv.setBigUint64(4, BigInt(seq))
  return b
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4)
  new DataView(b.buffer).setUint32(0, n)
  return b
}

/** A put waiting for the next group commit. */
interface PendingPut {
  key: Key
  hex: string
  data: Uint8Array
  /** Hashed by the caller ({@link VerifiedChunk}): not hashed again. */
  verified: boolean
  options: AbortOptions | undefined
  resolve: () => void
  reject: (err: unknown) => void
}

/** Result of {@link LevelChunkStore.scrub}. */
export interface ScrubReport {
  /** Chunks that hashed to their key. */
  ok: number
  /** Chunks that did not (or had inconsistent metadata) and were deleted. */
  removed: number
}

/** LevelDB-backed {@link ChunkStore}; create with {@link LevelChunkStore.open}. */
export class LevelChunkStore implements ChunkStore {
  /** Present chunks (hex) with their size. */
  private readonly present = new Map<string, number>()
  /** Present unpinned chunks, oldest use first. */
  private readonly lru = new Map<string, number>()
  private readonly refs = new Map<string, number>()
  private bytes = 0
  private evictableBytes = 0
  private pinnedPresent = 0
  private evictions = 0
  private dedupHits = 0
  private corrupt = 0
  private seq = 0
  private pendingPuts: PendingPut[] = []
  private closed = false
  /** Tail of the write queue: mutations run one at a time so budget checks cannot race. */
  private tail: Promise<unknown> = Promise.resolve()

  private constructor(
    private readonly db: ChunkDb,
    private readonly ownsDb: boolean,
    private readonly budget: number,
    private readonly verifyOnGet: boolean
  ) {}

  /**
   * Opens (or creates) a store: checks the schema version (`CAFS_STORE_SCHEMA` when another
   * version, or unknown data without a version, is found) and loads the index.
   */
  static async open(options: LevelChunkStoreOptions): Promise<LevelChunkStore> {
    const budget = options.budgetBytes ?? Number.POSITIVE_INFINITY
    if (!(budget >= 0)) throw new RangeError('budgetBytes must be >= 0')
    let db = options.db
    const owns = db === undefined
    if (!db) {
      if (!options.path) throw new TypeError('LevelChunkStore.open needs a path or a db')
      const level = new Level<Uint8Array, Uint8Array>(options.path, {
        ...LEVEL_STORE_TUNING,
        ...options.tuning,
        keyEncoding: 'view',
        valueEncoding: 'view'
      })
      await level.open()
      db = level as unknown as ChunkDb
    }
    try {
      await checkSchema(db)
      const store = new LevelChunkStore(db, owns, budget, options.verifyOnGet ?? true)
      await store.load()
      return store
    } catch (err) {
      if (owns) await db.close()
      throw err
    }
  }

  private check(options?: AbortOptions): void {
    if (this.closed) throw cafsError(CafsCode.STORE_CLOSED, 'store is closed')
    options?.signal?.throwIfAborted()
  }

  /** Runs `fn` after every earlier mutation finished. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn)
    this.tail = run.catch(() => {})
    return run
  }

  /** Adds a present chunk to the in-memory index. */
  private index(hex: string, size: number): void {
    this.present.set(hex, size)
    this.bytes += size
    if (this.refs.has(hex)) this.pinnedPresent++
    else {
      this.lru.set(hex, size)
      this.evictableBytes += size
    }
  }

  /** Removes a present chunk from the in-memory index. */
  private unindex(hex: string): void {
    const size = this.present.get(hex)
    if (size === undefined) return
    this.present.delete(hex)
    this.bytes -= size
    if (this.lru.delete(hex)) this.evictableBytes -= size
    else if (this.refs.has(hex)) this.pinnedPresent--
  }

  /** @inheritdoc */
  async has(key: Key, options?: AbortOptions): Promise<boolean> {
    this.check(options)
    return this.present.has(keyToHex(checkKey(key)))
  }

  /** Reads a chunk (re-verified unless `verifyOnGet: false`); counts as a use for the LRU. */
  async get(key: Key, options?: AbortOptions): Promise<Uint8Array | undefined> {
    this.check(options)
    const hex = keyToHex(checkKey(key))
    if (!this.present.has(hex)) return undefined
    const raw = await this.db.get(prefixed(P_DATA, key))
    // Absent here means deleted or evicted since the index lookup (scrub() repairs the rest).
    if (raw === undefined) return undefined
    if (this.verifyOnGet && !keysEqual(sha256(raw), key)) {
      await this.exclusive(async () => this.drop(key, hex))
      this.corrupt++
      return undefined
    }
    // Record the use without making the reader wait for the write (close() still waits).
    if (this.lru.has(hex)) void this.exclusive(() => this.touch(key, hex)).catch(() => {})
    // A plain Uint8Array the caller owns (level returns a Buffer over its own memory).
    return new Uint8Array(raw)
  }

  /** Moves an unpinned chunk to the young end of the LRU chain and persists its last use. */
  private async touch(key: Key, hex: string): Promise<void> {
    const size = this.lru.get(hex)
    if (this.closed || size === undefined) return
    this.lru.delete(hex)
    this.lru.set(hex, size)
    await this.db.batch([{ type: 'put', key: prefixed(P_META, key), value: encodeMeta(size, this.seq++) }])
  }

  /**
   * Verifies and stores a chunk. Puts issued while a write is in progress are committed
   * together in the next batch (group commit), each one still all-or-nothing. Zero-copy: the
   * store reads `bytes` until the promise settles, so the caller must not modify them before;
   * the hash is checked in the same synchronous step that hands the bytes to LevelDB (which
   * copies them), so even a violation cannot store a wrong chunk.
   */
  async put(key: Key, bytes: Uint8Array, options?: AbortOptions): Promise<void> {
    this.check(options)
    checkKey(key)
    checkChunkSize(bytes)
    return new Promise<void>((resolve, reject) => {
      this.pendingPuts.push({
        key,
        hex: keyToHex(key),
        data: bytes,
        verified: false,
        options,
        resolve,
        reject
      })
      if (this.pendingPuts.length === 1) void this.exclusive(() => this.flushPuts())
    })
  }

  /** Like {@link put} for a chunk hashed by the caller: the group commit skips the re-hash. */
  async putVerified(chunk: VerifiedChunk, options?: AbortOptions): Promise<void> {
    this.check(options)
    checkVerified(chunk)
    const { key, bytes } = chunk
    return new Promise<void>((resolve, reject) => {
      this.pendingPuts.push({
        key,
        hex: keyToHex(key),
        data: bytes,
        verified: true,
        options,
        resolve,
        reject
      })
      if (this.pendingPuts.length === 1) void this.exclusive(() => this.flushPuts())
    })
  }

  /** Writes every queued put in one atomic batch (with the evictions that make room). */
  private async flushPuts(): Promise<void> {
    const group = this.pendingPuts.splice(0)
    const ops: ChunkDbOp[] = []
    const accepted: PendingPut[] = []
    const victims: string[] = []
    // The in-memory index is updated while the batch is built, so later puts of the group see
    // earlier ones; if the write fails the index is reloaded from disk.
    for (const p of group) {
      // Not check(): puts queued before close() still complete (close waits for them).
      if (p.options?.signal?.aborted) {
        p.reject(p.options.signal.reason)
        continue
      }
      try {
        if (!p.verified) verifyChunk(p.key, p.data)
      } catch (err) {
        p.reject(err)
        continue
      }
      if (this.present.has(p.hex)) {
        this.dedupHits++
        const size = this.lru.get(p.hex)
        if (size !== undefined) {
          this.lru.delete(p.hex)
          this.lru.set(p.hex, size)
        }
        accepted.push(p)
        continue
      }
      const size = p.data.length
      if (size > this.budget || this.bytes + size - this.budget > this.evictableBytes) {
        p.reject(
          cafsError(CafsCode.STORE_FULL, 'chunk does not fit in the store budget', {
            size,
            bytes: this.bytes,
            budget: this.budget,
            evictable: this.evictableBytes
          })
        )
        continue
      }
      for (const [old] of this.lru) {
        if (this.bytes + size <= this.budget) break
        const k = keyFromHex(old)
        ops.push({ type: 'del', key: prefixed(P_DATA, k) }, { type: 'del', key: prefixed(P_META, k) })
        victims.push(old)
        this.unindex(old)
      }
      ops.push(
        { type: 'put', key: prefixed(P_DATA, p.key), value: p.data },
        { type: 'put', key: prefixed(P_META, p.key), value: encodeMeta(size, this.seq++) }
      )
      this.index(p.hex, size)
      accepted.push(p)
    }
    try {
      if (ops.length > 0) await this.db.batch(ops)
    } catch (err) {
      await this.reload().catch(() => {})
      for (const p of accepted) p.reject(err)
      return
    }
    this.evictions += victims.length
    for (const p of accepted) p.resolve()
  }

  /** Rebuilds the in-memory index from the database (after a failed write). */
  private async reload(): Promise<void> {
    this.present.clear()
    this.lru.clear()
    this.refs.clear()
    this.bytes = 0
    this.evictableBytes = 0
    this.pinnedPresent = 0
    await this.load()
  }

  /** Reads pins and chunk metadata into the in-memory index (LRU order = last-use sequence). */
  private async load(): Promise<void> {
    const entries: { hex: string; size: number; seq: number }[] = []
    for await (const [k, v] of this.db.iterator({
      gte: Uint8Array.of(P_META),
      lt: Uint8Array.of(P_META + 1)
    })) {
      const dv = new DataView(v.buffer, v.byteOffset, v.byteLength)
      entries.push({ hex: keyToHex(k.subarray(1)), size: dv.getUint32(0), seq: Number(dv.getBigUint64(4)) })
    }
    entries.sort((a, b) => a.seq - b.seq)
    if (entries.length > 0) this.seq = Math.max(this.seq, entries[entries.length - 1]!.seq + 1)
    for await (const [k, v] of this.db.iterator({
      gte: Uint8Array.of(P_PIN),
      lt: Uint8Array.of(P_PIN + 1)
    })) {
      const n = new DataView(v.buffer, v.byteOffset, v.byteLength).getUint32(0)
      if (n > 0) this.refs.set(keyToHex(k.subarray(1)), n)
    }
    for (const e of entries) this.index(e.hex, e.size)
  }

  /** @inheritdoc */
  async delete(key: Key, options?: AbortOptions): Promise<boolean> {
    this.check(options)
    const hex = keyToHex(checkKey(key))
    return this.exclusive(async () => {
      if (!this.present.has(hex) || this.refs.has(hex)) return false
      await this.drop(key, hex)
      return true
    })
  }

  /** Deletes a chunk's data and metadata (whatever its pins) and forgets it. */
  private async drop(key: Key, hex: string): Promise<void> {
    if (this.closed) return
    await this.db.batch([
      { type: 'del', key: prefixed(P_DATA, key) },
      { type: 'del', key: prefixed(P_META, key) }
    ])
    this.unindex(hex)
  }

  /** Pins are persisted: a restarted node keeps protecting the chunks of its transactions. */
  async pin(key: Key): Promise<void> {
    this.check()
    const hex = keyToHex(checkKey(key))
    await this.exclusive(async () => {
      this.check()
      const n = this.refs.get(hex) ?? 0
      await this.db.batch([{ type: 'put', key: prefixed(P_PIN, key), value: u32(n + 1) }])
      if (n === 0) {
        const size = this.lru.get(hex)
        if (size !== undefined) {
          this.lru.delete(hex)
          this.evictableBytes -= size
          this.pinnedPresent++
        }
      }
      this.refs.set(hex, n + 1)
    })
  }

  /** Throws `CAFS_NOT_PINNED` when the count is already zero (unbalanced unpin is a bug). */
  async unpin(key: Key): Promise<void> {
    this.check()
    const hex = keyToHex(checkKey(key))
    await this.exclusive(async () => {
      this.check()
      const n = this.refs.get(hex) ?? 0
      if (n === 0) throw cafsError(CafsCode.NOT_PINNED, 'unpin without pin', { key: hex })
      if (n > 1) {
        await this.db.batch([{ type: 'put', key: prefixed(P_PIN, key), value: u32(n - 1) }])
        this.refs.set(hex, n - 1)
        return
      }
      await this.db.batch([{ type: 'del', key: prefixed(P_PIN, key) }])
      this.refs.delete(hex)
      const size = this.present.get(hex)
      if (size !== undefined) {
        this.pinnedPresent--
        this.lru.set(hex, size)
        this.evictableBytes += size
      }
    })
  }

  /** @inheritdoc */
  stats(): StoreStats {
    return {
      chunks: this.present.size,
      bytes: this.bytes,
      budgetBytes: this.budget,
      pinned: this.pinnedPresent,
      evictions: this.evictions,
      dedupHits: this.dedupHits
    }
  }

  /** Chunks found damaged on disk (by `get` or {@link scrub}) and deleted since start. */
  corruptChunks(): number {
    return this.corrupt
  }

  /** Re-hashes every stored chunk, deleting any that does not verify (e.g. after disk errors). */
  async scrub(options?: AbortOptions): Promise<ScrubReport> {
    this.check(options)
    const report: ScrubReport = { ok: 0, removed: 0 }
    for (const hex of [...this.present.keys()]) {
      options?.signal?.throwIfAborted()
      const key = keyFromHex(hex)
      const raw = await this.db.get(prefixed(P_DATA, key))
      if (raw !== undefined && raw.length === this.present.get(hex) && keysEqual(sha256(raw), key))
        report.ok++
      else {
        await this.exclusive(async () => this.drop(key, hex))
        this.corrupt++
        report.removed++
      }
    }
    return report
  }

  /** Waits for pending writes, then closes the database if the store opened it. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.tail
    if (this.ownsDb) await this.db.close()
  }
}

/** Verifies (or, on an empty database, writes) the schema version key. */
async function checkSchema(db: ChunkDb): Promise<void> {
  const v = await db.get(SCHEMA_KEY)
  if (v === undefined) {
    for await (const _ of db.iterator()) {
      throw cafsError(CafsCode.STORE_SCHEMA, 'database holds data but no CAFS schema version')
    }
    await db.batch([{ type: 'put', key: SCHEMA_KEY, value: SCHEMA_VALUE }])
    return
  }
  if (!keysEqual(v, SCHEMA_VALUE))
    throw cafsError(CafsCode.STORE_SCHEMA, 'unsupported CAFS store schema', {
      found: Buffer.from(v).toString('latin1').slice(0, 64),
      expected: LEVEL_STORE_SCHEMA
    })
}
