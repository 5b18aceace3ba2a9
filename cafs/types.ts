/**
 * The contracts shared by every part of CAFS (content-addressable file storage): chunk keys,
 * manifests, and the chunk-store interface that the memory and LevelDB stores implement and the
 * transfer code consumes. See DESIGN.md §1 and the CAFS sections of protocol/README.md.
 */

import type { VerifiedChunk } from './verified.js'

/** A SHA-256 digest (32 bytes): the key of a chunk, a file or a manifest. */
export type Key = Uint8Array

/** Length of every {@link Key} in bytes. */
export const KEY_LENGTH = 32

/** One entry of a manifest: a chunk's key and its length in bytes. */
export interface ChunkRef {
  readonly key: Key
  readonly size: number
}

/**
 * A file as an ordered list of chunks. `fileKey` is the SHA-256 of the whole content (so
 * `/file/<sha256>` keeps its meaning); the manifest itself has its own key (SHA-256 of its
 * canonical encoding).
 */
export interface Manifest {
  readonly fileKey: Key
  readonly size: number
  readonly chunks: readonly ChunkRef[]
}

/** Figures a store reports for metrics and the API. */
export interface StoreStats {
  /** Number of chunks held. */
  chunks: number
  /** Sum of the chunk lengths held. */
  bytes: number
  /** Byte budget, or `Infinity` when unbounded. */
  budgetBytes: number
  /** Chunks with a reference count above zero (never evicted). */
  pinned: number
  /** Chunks evicted since start. */
  evictions: number
  /** `put` calls that found the chunk already present. */
  dedupHits: number
}

/** Options every long operation accepts. */
export interface AbortOptions {
  signal?: AbortSignal
}

/**
 * A content-addressed chunk store. Implementations re-hash every chunk on `put` and refuse a
 * chunk whose SHA-256 is not its key (`CAFS_HASH_MISMATCH`), so a store never holds a wrong
 * chunk. Reference counts (`pin`/`unpin`) protect chunks of active transactions from eviction.
 */
export interface ChunkStore {
  /** True when the chunk is present. */
  has(key: Key, options?: AbortOptions): Promise<boolean>
  /** The chunk's bytes, or `undefined` when absent. */
  get(key: Key, options?: AbortOptions): Promise<Uint8Array | undefined>
  /**
   * The chunk's bytes without a copy, for a reader that only hashes them or copies them out
   * (the chunk server). The caller must never write to them nor hand them on. Optional: such
   * readers fall back to `get`.
   */
  getShared?(key: Key, options?: AbortOptions): Promise<Uint8Array | undefined>
  /**
   * Verifies and stores a chunk; storing a present chunk is a no-op (counted as a dedup hit).
   * The store may read `bytes` until the promise settles: do not modify them before. Fails with
   * `CAFS_HASH_MISMATCH`, `CAFS_CHUNK_SIZE`, `CAFS_BAD_KEY` or `CAFS_STORE_FULL`, leaving the
   * store unchanged (protocol/spec/cafs.md CAFS-12, CAFS-13).
   */
  put(key: Key, bytes: Uint8Array, options?: AbortOptions): Promise<void>
  /**
   * Like `put` for a chunk this process has just hashed ({@link VerifiedChunk}): the store
   * skips its own re-hash, since the token proves the key was computed from these bytes
   * (one verification per side, CAFS-12). Optional: callers use `putChunk`, which falls back
   * to `put` (and its re-hash) for stores without it. Fails like `put` otherwise. A token marked
   * `owned` hands its bytes over: the store may keep that array instead of a copy.
   */
  putVerified?(chunk: VerifiedChunk, options?: AbortOptions): Promise<void>
  /** Removes an unpinned chunk; returns false when it was absent or is pinned. */
  delete(key: Key, options?: AbortOptions): Promise<boolean>
  /** Increments the chunk's reference count (the chunk need not be present yet). */
  pin(key: Key): Promise<void>
  /**
   * Decrements the chunk's reference count; at zero it becomes evictable again. Unpinning a
   * chunk whose count is already zero is a caller bug: `CAFS_NOT_PINNED`.
   */
  unpin(key: Key): Promise<void>
  /** Current figures. */
  stats(): StoreStats
  /** Releases resources; idempotent. */
  close(): Promise<void>
}
