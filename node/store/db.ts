/**
 * The storage controller (STYLE.md, Lodestar): one small key-value interface with a LevelDB
 * and an in-memory implementation that pass the same compliance suite, one-byte bucket
 * prefixes, and a schema version key checked on open. Layout: node/store/README.md.
 */
import { Level } from 'level'
import { compare } from 'uint8arrays/compare'
import { Bucket } from './buckets.js'
import { concat, decodeSealed, seal, utf8, Writer } from './codec.js'
import { StoreCode, storeError } from './errors.js'

export { Bucket, type BucketName } from './buckets.js'

/**
 * Schema version of the layout in README.md; bump on any incompatible change and, where the old
 * data can be kept, add the step from the previous version to `migrate.ts`. 2: stored
 * transmit-finished messages carry the sealed result key (TX-23); version-1 ones no longer
 * replay. 3: mandates moved out of the file buckets (issue 12.1, migrated from 2).
 */
export const SCHEMA_VERSION = 3

/** Key of the schema version record. */
export const SCHEMA_KEY: Uint8Array = concat(Uint8Array.of(Bucket.meta), utf8('schema'))

/** One write of an atomic batch. */
export type KvOp =
  | { readonly type: 'put'; readonly key: Uint8Array; readonly value: Uint8Array }
  | { readonly type: 'del'; readonly key: Uint8Array }

/** A key range; bounds are byte strings compared lexicographically. */
export interface KvRange {
  /** Inclusive lower bound. */
  readonly gte?: Uint8Array
  /** Exclusive upper bound. */
  readonly lt?: Uint8Array
  /** Descending order. */
  readonly reverse?: boolean
  /** Most entries to yield. */
  readonly limit?: number
}

/** Options of a write. */
export interface WriteOptions {
  /** Wait until the write is on stable storage (fsync) before resolving. */
  readonly sync?: boolean
}

/** The controller every repository talks to. Keys and values are raw bytes. */
export interface KvController {
  /** Which implementation. */
  readonly kind: 'memory' | 'level'
  /** The value of `key`, or undefined when absent. */
  get(key: Uint8Array): Promise<Uint8Array | undefined>
  /** Applies all `ops` atomically: after a crash either all or none are visible. */
  batch(ops: readonly KvOp[], options?: WriteOptions): Promise<void>
  /** Entries in `range`, in key order (or reverse). */
  entries(range: KvRange): AsyncIterable<[Uint8Array, Uint8Array]>
  /** Closes the store; idempotent. Later calls throw STORE_CLOSED. */
  close(): Promise<void>
  /** True once `close()` was called. */
  readonly closed: boolean
}

function closedError(): Error {
  return storeError(StoreCode.CLOSED, 'store is closed')
}

/** The range of every key that starts with `prefix` (no upper bound when the prefix is all 0xff). */
export function prefixRange(prefix: Uint8Array): { gte: Uint8Array; lt?: Uint8Array } {
  // The least byte string above every key with this prefix: drop trailing 0xff bytes, increment the last.
  let i = prefix.length - 1
  while (i >= 0 && prefix[i] === 0xff) i--
  if (i < 0) return { gte: prefix }
  const lt = prefix.slice(0, i + 1)
  lt[i] = (lt[i] as number) + 1
  return { gte: prefix, lt }
}

/**
 * The data of a memory store; pass the same one to a second {@link createMemoryController}
 * to model a restart.
 */
export type MemoryBacking = Map<string, { key: Uint8Array; value: Uint8Array }>

/** A fresh, empty {@link MemoryBacking}. */
export function createMemoryBacking(): MemoryBacking {
  return new Map()
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

/** An in-memory controller (unit tests); batches are atomic by construction. */
export function createMemoryController(backing: MemoryBacking = createMemoryBacking()): KvController {
  let closed = false
  const live = (): void => {
    if (closed) throw closedError()
  }
  return {
    kind: 'memory',
    get closed() {
      return closed
    },
    async get(key) {
      live()
      const e = backing.get(hex(key))
      return e === undefined ? undefined : Uint8Array.from(e.value)
    },
    async batch(ops) {
      live()
      for (const op of ops)
        if (op.type === 'put')
          backing.set(hex(op.key), { key: Uint8Array.from(op.key), value: Uint8Array.from(op.value) })
        else backing.delete(hex(op.key))
    },
    async *entries(range) {
      live()
      // Snapshot first, as LevelDB iterators read a snapshot.
      const rows = [...backing.values()]
        .filter(
          (e) =>
            (range.gte === undefined || compare(e.key, range.gte) >= 0) &&
            (range.lt === undefined || compare(e.key, range.lt) < 0)
        )
        .sort((a, b) => compare(a.key, b.key))
      if (range.reverse === true) rows.reverse()
      const limit = range.limit ?? Number.POSITIVE_INFINITY
      let n = 0
      for (const e of rows) {
        if (n++ >= limit) return
        live()
        yield [Uint8Array.from(e.key), Uint8Array.from(e.value)]
      }
    },
    async close() {
      closed = true
    }
  }
}

/** Opens (creating if missing) the LevelDB database at `path` (STORE_LOCKED when held elsewhere). */
export async function openLevelController(path: string): Promise<KvController> {
  const db = new Level<Uint8Array, Uint8Array>(path, { keyEncoding: 'view', valueEncoding: 'view' })
  try {
    await db.open()
  } catch (err) {
    const cause = (err as { cause?: { code?: unknown } }).cause
    if (cause?.code === 'LEVEL_LOCKED')
      throw storeError(StoreCode.LOCKED, `database ${path} is in use by another process`, { path })
    throw err
  }
  let closing: Promise<void> | undefined
  const live = (): void => {
    if (closing !== undefined) throw closedError()
  }
  return {
    kind: 'level',
    get closed() {
      return closing !== undefined
    },
    async get(key) {
      live()
      const v = await db.get(key)
      return v === undefined ? undefined : new Uint8Array(v.buffer, v.byteOffset, v.byteLength)
    },
    async batch(ops, options = {}) {
      live()
      if (ops.length === 0) return
      await db.batch(
        ops.map((op) => (op.type === 'put' ? { type: 'put', key: op.key, value: op.value } : op)),
        { sync: options.sync === true }
      )
    },
    async *entries(range) {
      live()
      const opts: { gte?: Uint8Array; lt?: Uint8Array; reverse?: boolean; limit?: number } = {}
      if (range.gte !== undefined) opts.gte = range.gte
      if (range.lt !== undefined) opts.lt = range.lt
      if (range.reverse !== undefined) opts.reverse = range.reverse
      if (range.limit !== undefined) opts.limit = range.limit
      for await (const [k, v] of db.iterator(opts)) {
        yield [
          new Uint8Array(k.buffer, k.byteOffset, k.byteLength),
          new Uint8Array(v.buffer, v.byteOffset, v.byteLength)
        ]
      }
    },
    close() {
      closing ??= db.close()
      return closing
    }
  }
}

/**
 * Checks the schema version key (README.md "Schema version"). An empty database gets the
 * current version written; a different version, or data without a version key, is refused
 * with STORE_SCHEMA_MISMATCH; an undecodable version record is STORE_CORRUPT.
 */
export async function checkSchema(kv: KvController): Promise<void> {
  const value = await kv.get(SCHEMA_KEY)
  if (value === undefined) {
    for await (const _ of kv.entries({ limit: 1 }))
      throw storeError(StoreCode.SCHEMA_MISMATCH, 'database holds data but no schema version', {
        expected: SCHEMA_VERSION
      })
    await kv.batch([{ type: 'put', key: SCHEMA_KEY, value: schemaValue(SCHEMA_VERSION) }], { sync: true })
    return
  }
  const found = decodeSealed(SCHEMA_KEY, value, (r) => r.u32())
  if (found !== SCHEMA_VERSION)
    throw storeError(StoreCode.SCHEMA_MISMATCH, `database schema ${found}, expected ${SCHEMA_VERSION}`, {
      found,
      expected: SCHEMA_VERSION
    })
}

/** The stored value of a schema version (u32 BE, sealed). */
export function schemaValue(version: number): Uint8Array {
  return seal(SCHEMA_KEY, new Writer().u32(version).finish())
}

/**
 * Serializes async critical sections (read-modify-write of one repository), so that e.g. two
 * concurrent `markUsed` calls cannot both pass the check.
 */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve()

  /** Runs `fn` after every earlier section has settled. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn)
    this.tail = result.catch(() => undefined)
    return result
  }
}
