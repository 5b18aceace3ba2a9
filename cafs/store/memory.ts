import { CafsCode, cafsError } from '../errors.js'
import { checkKey, keyToHex } from '../keys.js'
import type { AbortOptions, ChunkStore, Key, StoreStats } from '../types.js'
import type { VerifiedChunk } from '../verified.js'
import { checkVerified, verifyChunk } from './verify.js'

/** Options of {@link MemoryChunkStore}. */
export interface MemoryChunkStoreOptions {
  /** Most bytes of chunk data held; `Infinity` (default) for no limit. */
  budgetBytes?: number
}

/**
 * A chunk store in RAM (CAFS-11…CAFS-14): byte budget, least-recently-used eviction of unpinned
 * chunks, reference counts. Like the original's RAM storage, a chunk with a positive reference
 * count is never evicted, and a chunk that cannot fit fails with `CAFS_STORE_FULL` without
 * evicting anything. The accounted size of a chunk is its length.
 */
export class MemoryChunkStore implements ChunkStore {
  /** Every present chunk by hex key. */
  private readonly chunks = new Map<string, Uint8Array>()
  /** Present chunks with no reference, oldest use first (Map keeps insertion order). */
  private readonly lru = new Map<string, number>()
  /** Reference counts above zero, for present and absent chunks alike. */
  private readonly refs = new Map<string, number>()
  private readonly budget: number
  private bytes = 0
  private evictableBytes = 0
  private pinnedPresent = 0
  private evictions = 0
  private dedupHits = 0
  private closed = false

  constructor(options: MemoryChunkStoreOptions = {}) {
    const b = options.budgetBytes ?? Number.POSITIVE_INFINITY
    if (!(b >= 0)) throw new RangeError('budgetBytes must be >= 0')
    this.budget = b
  }

  private open(options?: AbortOptions): void {
    if (this.closed) throw cafsError(CafsCode.STORE_CLOSED, 'store is closed')
    options?.signal?.throwIfAborted()
  }

  /** @inheritdoc */
  async has(key: Key, options?: AbortOptions): Promise<boolean> {
    this.open(options)
    return this.chunks.has(keyToHex(checkKey(key)))
  }

  /** Returns a copy, so no caller can alter what the store holds. Counts as a use for the LRU. */
  async get(key: Key, options?: AbortOptions): Promise<Uint8Array | undefined> {
    this.open(options)
    const hex = keyToHex(checkKey(key))
    const bytes = this.chunks.get(hex)
    if (!bytes) return undefined
    this.touch(hex, bytes.length)
    return bytes.slice()
  }

  /** The held array itself (no copy; callers only read it). Counts as a use for the LRU. */
  async getShared(key: Key, options?: AbortOptions): Promise<Uint8Array | undefined> {
    this.open(options)
    const hex = keyToHex(checkKey(key))
    const bytes = this.chunks.get(hex)
    if (bytes) this.touch(hex, bytes.length)
    return bytes
  }

  /** @inheritdoc */
  async put(key: Key, bytes: Uint8Array, options?: AbortOptions): Promise<void> {
    this.open(options)
    verifyChunk(key, bytes)
    this.insert(key, bytes)
  }

  /** @inheritdoc */
  async putVerified(chunk: VerifiedChunk, options?: AbortOptions): Promise<void> {
    this.open(options)
    checkVerified(chunk)
    this.insert(chunk.key, chunk.bytes, chunk.owned)
  }

  /**
   * Stores a checked chunk: a dedup hit, or within budget a copy (the caller keeps its array),
   * or the array itself when the caller handed it over (`owned`, a decoder's own copy).
   */
  private insert(key: Key, bytes: Uint8Array, owned = false): void {
    const hex = keyToHex(key)
    const present = this.chunks.get(hex)
    if (present) {
      this.dedupHits++
      this.touch(hex, present.length)
      return
    }
    const size = bytes.length
    const excess = this.bytes + size - this.budget
    if (size > this.budget || excess > this.evictableBytes)
      throw cafsError(CafsCode.STORE_FULL, 'chunk does not fit in the store budget', {
        size,
        bytes: this.bytes,
        budget: this.budget,
        evictable: this.evictableBytes
      })
    // Oldest unpinned first; the check above guarantees this loop ends with enough room.
    for (const [old, oldSize] of this.lru) {
      if (this.bytes + size <= this.budget) break
      this.remove(old, oldSize)
      this.evictions++
    }
    this.chunks.set(hex, owned ? bytes : bytes.slice())
    this.bytes += size
    if (this.refs.has(hex)) this.pinnedPresent++
    else {
      this.lru.set(hex, size)
      this.evictableBytes += size
    }
  }

  /** @inheritdoc */
  async delete(key: Key, options?: AbortOptions): Promise<boolean> {
    this.open(options)
    const hex = keyToHex(checkKey(key))
    const bytes = this.chunks.get(hex)
    if (!bytes || this.refs.has(hex)) return false
    this.remove(hex, bytes.length)
    return true
  }

  /** @inheritdoc */
  async pin(key: Key): Promise<void> {
    this.open()
    const hex = keyToHex(checkKey(key))
    const n = this.refs.get(hex) ?? 0
    this.refs.set(hex, n + 1)
    if (n === 0) {
      const size = this.lru.get(hex)
      if (size !== undefined) {
        this.lru.delete(hex)
        this.evictableBytes -= size
        this.pinnedPresent++
      }
    }
  }

  /** Throws `CAFS_NOT_PINNED` when the count is already zero (unbalanced unpin is a bug). */
  async unpin(key: Key): Promise<void> {
    this.open()
    const hex = keyToHex(checkKey(key))
    const n = this.refs.get(hex) ?? 0
    if (n === 0) throw cafsError(CafsCode.NOT_PINNED, 'unpin without pin', { key: hex })
    if (n > 1) {
      this.refs.set(hex, n - 1)
      return
    }
    this.refs.delete(hex)
    const bytes = this.chunks.get(hex)
    if (bytes) {
      this.pinnedPresent--
      this.lru.set(hex, bytes.length)
      this.evictableBytes += bytes.length
    }
  }

  /** @inheritdoc */
  stats(): StoreStats {
    return {
      chunks: this.chunks.size,
      bytes: this.bytes,
      budgetBytes: this.budget,
      pinned: this.pinnedPresent,
      evictions: this.evictions,
      dedupHits: this.dedupHits
    }
  }

  /** @inheritdoc */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.chunks.clear()
    this.lru.clear()
    this.refs.clear()
    this.bytes = 0
    this.evictableBytes = 0
    this.pinnedPresent = 0
  }

  /** Moves an unpinned chunk to the young end of the LRU chain. */
  private touch(hex: string, size: number): void {
    if (this.lru.delete(hex)) this.lru.set(hex, size)
  }

  /** Drops an unpinned chunk. */
  private remove(hex: string, size: number): void {
    this.chunks.delete(hex)
    if (this.lru.delete(hex)) this.evictableBytes -= size
    this.bytes -= size
  }
}
