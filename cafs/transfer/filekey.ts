import type { AsyncFileHasher, HashPool } from '../hash-pool.js'
import { FileHasher } from '../keys.js'
import type { AbortOptions, ChunkStore, Key, Manifest } from '../types.js'
import { storedChunk } from './receive.js'

/** The promise of a step that finished synchronously. */
const SETTLED: Promise<void> = Promise.resolve()

/**
 * The file key of a fetch, hashed in manifest order while chunks arrive (XFER-21) instead of
 * in a separate pass over the store at the end. A chunk that arrives at the cursor is hashed
 * from the bytes just verified; the cursor then runs on through chunks already in the store
 * (held before the fetch, duplicates, or delivered early by another provider), which it reads
 * back. With one provider, or providers keeping pace, nothing is read back.
 */
export class FileKeyCursor {
  private readonly hasher: FileHasher | AsyncFileHasher
  private next = 0
  /** Manifest indices not stored yet: the cursor stops before them. */
  private readonly awaited: Set<number>
  /** Steps run one at a time: a read-back must not interleave with another arrival. */
  private busy: Promise<void> = Promise.resolve()
  private digested = false
  /** Steps queued on `busy` and not finished. */
  private queued = 0

  constructor(
    private readonly manifest: Manifest,
    private readonly store: ChunkStore,
    wanted: readonly number[],
    pool?: HashPool
  ) {
    this.awaited = new Set(wanted)
    // On a pool worker the bytes are copied out at the end of the turn: views stay valid.
    this.hasher = pool ? pool.fileHasher() : new FileHasher()
  }

  /** Chunk `index` was verified and stored with `bytes` (which must not change until this settles). */
  stored(index: number, bytes: Uint8Array, options: AbortOptions): Promise<void> {
    // The common case, synchronously: nothing queued and nothing to read back (no promise per chunk).
    if (this.queued === 0) {
      this.awaited.delete(index)
      if (index === this.next) {
        this.hasher.update(bytes)
        this.next++
      }
      if (!this.canAdvance()) return SETTLED
      return this.enqueue(() => this.advance(options))
    }
    return this.enqueue(() => this.step(index, bytes, options))
  }

  /** Runs `fn` after every queued step. */
  private enqueue(fn: () => Promise<void>): Promise<void> {
    this.queued++
    const run = this.busy.then(fn).finally(() => {
      this.queued--
    })
    this.busy = run.catch(() => {})
    return run
  }

  /** True when the chunk at the cursor is stored already (a read-back is due). */
  private canAdvance(): boolean {
    return this.next < this.manifest.chunks.length && !this.awaited.has(this.next)
  }

  /** The SHA-256 of the whole file, once every chunk was stored. */
  async digest(options: AbortOptions): Promise<Key> {
    await this.busy
    await this.advance(options)
    if (this.next !== this.manifest.chunks.length) throw new Error('FileKeyCursor.digest before every chunk')
    this.digested = true
    return await this.hasher.digest()
  }

  /** Releases the hasher of a fetch that failed (a pool worker keeps its state otherwise). */
  discard(): void {
    if (this.digested || this.hasher instanceof FileHasher) return
    this.digested = true
    this.hasher.digest().catch(() => {})
  }

  private async step(index: number, bytes: Uint8Array, options: AbortOptions): Promise<void> {
    this.awaited.delete(index)
    if (index === this.next) {
      this.hasher.update(bytes)
      this.next++
    }
    await this.advance(options)
  }

  private async advance(options: AbortOptions): Promise<void> {
    while (this.canAdvance()) {
      this.hasher.update(await storedChunk(this.store, this.manifest, this.next, options))
      this.next++
    }
  }
}
