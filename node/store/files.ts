/**
 * Known files (README.md buckets `file`, `fileAdded`): file key → CAFS manifest, so that
 * `GET /file/<sha256>` still finds a result or an uploaded work after a restart (the chunks are
 * in the chunk store; the manifest says which). Bounded: beyond `maxFiles` the oldest entries
 * are forgotten (their chunks stay until the chunk store evicts them).
 */
import { keysEqual } from '../../cafs/keys.js'
import { decodeManifest, encodeManifest, MANIFEST_MAX_CHUNKS } from '../../cafs/manifest.js'
import { manifestBytesFor } from '../../cafs/transfer/limits.js'
import { KEY_LENGTH, type Manifest } from '../../cafs/types.js'
import { check, concat, decodeSealed, seal, u64Bytes, Writer } from './codec.js'
import { Bucket, type KvController, type KvOp, Mutex, prefixRange } from './db.js'
import { StoreCode, storeError } from './errors.js'

/** Default bound on remembered files (invariant 10), as the daemon's former in-memory index. */
export const DEFAULT_MAX_FILES = 10_000

/** Largest stored manifest: the CAFS manifest codec's own limit (CAFS-9). */
const MAX_MANIFEST_BYTES = manifestBytesFor(MANIFEST_MAX_CHUNKS)

/** Key of a file record. */
export function fileKeyOf(fileKey: Uint8Array): Uint8Array {
  if (fileKey.length !== KEY_LENGTH) throw storeError(StoreCode.INVALID, 'a file key has 32 bytes')
  return concat(Uint8Array.of(Bucket.file), fileKey)
}

function addedKey(addedMs: number, fileKey: Uint8Array): Uint8Array {
  return concat(Uint8Array.of(Bucket.fileAdded), u64Bytes(addedMs), fileKey)
}

/** Decodes a sealed file record stored under `key`: when it was added and its manifest. */
export function decodeFile(key: Uint8Array, value: Uint8Array): { addedMs: number; manifest: Manifest } {
  check(key.length === 1 + KEY_LENGTH, 'bad file key')
  return decodeSealed(key, value, (r) => {
    const addedMs = r.u64()
    const manifest = decodeManifest(r.bytes(MAX_MANIFEST_BYTES))
    check(keysEqual(manifest.fileKey, key.subarray(1)), 'manifest names another file')
    return { addedMs, manifest }
  })
}

/** The repository of known files. */
export class FileRepository {
  private readonly lock = new Mutex()
  private count: number | undefined

  constructor(
    private readonly kv: KvController,
    /** Most files kept. */
    readonly maxFiles: number = DEFAULT_MAX_FILES
  ) {}

  /**
   * Remembers `manifest` (added at `nowMs`; a file already known keeps its first time), then
   * forgets the oldest files beyond the bound. Returns how many were forgotten.
   */
  put(manifest: Manifest, nowMs: number): Promise<number> {
    if (!Number.isSafeInteger(nowMs) || nowMs < 0) throw storeError(StoreCode.INVALID, 'invalid time')
    const key = fileKeyOf(manifest.fileKey)
    // encodeManifest checks the manifest (CAFS-9); an invalid one is refused before any write
    let bytes: Uint8Array
    try {
      bytes = encodeManifest(manifest)
    } catch {
      throw storeError(StoreCode.INVALID, 'invalid manifest')
    }
    return this.lock.run(async () => {
      const old = await this.kv.get(key)
      if (old !== undefined) {
        try {
          decodeFile(key, old)
          return 0
        } catch {
          // an unreadable record is replaced below; its stale index entry goes with eviction
        }
      }
      const ops: KvOp[] = [
        { type: 'put', key, value: seal(key, new Writer().u64(nowMs).bytes(bytes).finish()) },
        { type: 'put', key: addedKey(nowMs, manifest.fileKey), value: new Uint8Array(0) }
      ]
      const n = (await this.size()) + (old === undefined ? 1 : 0)
      await this.kv.batch(ops)
      this.count = n
      return n > this.maxFiles ? this.evict() : 0
    })
  }

  /** The manifest of `fileKey`, or undefined; STORE_CORRUPT when its record is unreadable. */
  async get(fileKey: Uint8Array): Promise<Manifest | undefined> {
    const key = fileKeyOf(fileKey)
    const v = await this.kv.get(key)
    return v === undefined ? undefined : decodeFile(key, v).manifest
  }

  /** Files remembered (counted once from the index, then kept up to date). */
  private async size(): Promise<number> {
    if (this.count === undefined) {
      let n = 0
      for await (const _ of this.kv.entries(prefixRange(Uint8Array.of(Bucket.fileAdded)))) n++
      this.count = n
    }
    return this.count
  }

  /** Deletes the oldest index entries (and their records) beyond `maxFiles`. */
  private async evict(): Promise<number> {
    const excess = (this.count ?? 0) - this.maxFiles
    if (excess <= 0) return 0
    const ops: KvOp[] = []
    for await (const [k] of this.kv.entries(prefixRange(Uint8Array.of(Bucket.fileAdded)))) {
      if (ops.length >= 2 * excess) break
      ops.push(
        { type: 'del', key: k },
        { type: 'del', key: concat(Uint8Array.of(Bucket.file), k.subarray(9)) }
      )
    }
    await this.kv.batch(ops)
    this.count = (this.count ?? 0) - ops.length / 2
    return ops.length / 2
  }
}
