import { createHash, randomBytes } from 'node:crypto'
import type { AbortOptions, ChunkStore, Key, StoreStats } from '../../cafs/types.js'

/** Drill support: stores that misbehave on purpose, hashing on the drill side, timing. */

/** SHA-256 computed on the drill side, independent of the code under test. */
export function sha256(bytes: Uint8Array): Key {
  return new Uint8Array(createHash('sha256').update(bytes).digest())
}

/** Random bytes (the drill's own data). */
export function randomData(size: number): Uint8Array {
  return new Uint8Array(randomBytes(size))
}

/** Hex of a key. */
export function hex(k: Uint8Array): string {
  return Buffer.from(k).toString('hex')
}

/**
 * Test-only hostile store: serves every chunk of `inner` with its first byte flipped (the
 * provider's server must run with `verifyServed: false` for the damage to reach the wire).
 * Counts the chunks it corrupted.
 */
export class CorruptingStore implements ChunkStore {
  /** Chunks handed out corrupted. */
  corrupted = 0
  constructor(private readonly inner: ChunkStore) {}
  has(key: Key, options?: AbortOptions): Promise<boolean> {
    return this.inner.has(key, options)
  }
  async get(key: Key, options?: AbortOptions): Promise<Uint8Array | undefined> {
    const b = await this.inner.get(key, options)
    if (b === undefined || b.length === 0) return b
    const bad = b.slice()
    bad[0] = (bad[0] as number) ^ 0xff
    this.corrupted++
    return bad
  }
  put(key: Key, bytes: Uint8Array, options?: AbortOptions): Promise<void> {
    return this.inner.put(key, bytes, options)
  }
  delete(key: Key, options?: AbortOptions): Promise<boolean> {
    return this.inner.delete(key, options)
  }
  pin(key: Key): Promise<void> {
    return this.inner.pin(key)
  }
  unpin(key: Key): Promise<void> {
    return this.inner.unpin(key)
  }
  stats(): StoreStats {
    return this.inner.stats()
  }
  close(): Promise<void> {
    return this.inner.close()
  }
}

/**
 * Test-only trusting store: keeps whatever it is given WITHOUT re-hashing, so a drill checks
 * the fetcher's own verification rather than the store's. `entries()` lists what it holds.
 */
export class TrustingStore implements ChunkStore {
  private readonly chunks = new Map<string, { key: Key; bytes: Uint8Array }>()
  private readonly refs = new Map<string, number>()
  /** `put` calls, successful or not. */
  puts = 0
  async has(key: Key): Promise<boolean> {
    return this.chunks.has(hex(key))
  }
  async get(key: Key): Promise<Uint8Array | undefined> {
    return this.chunks.get(hex(key))?.bytes
  }
  async put(key: Key, bytes: Uint8Array): Promise<void> {
    this.puts++
    if (!this.chunks.has(hex(key))) this.chunks.set(hex(key), { key: key.slice(), bytes: bytes.slice() })
  }
  async delete(key: Key): Promise<boolean> {
    if ((this.refs.get(hex(key)) ?? 0) > 0) return false
    return this.chunks.delete(hex(key))
  }
  async pin(key: Key): Promise<void> {
    this.refs.set(hex(key), (this.refs.get(hex(key)) ?? 0) + 1)
  }
  async unpin(key: Key): Promise<void> {
    const n = this.refs.get(hex(key)) ?? 0
    if (n <= 1) this.refs.delete(hex(key))
    else this.refs.set(hex(key), n - 1)
  }
  stats(): StoreStats {
    let bytes = 0
    for (const c of this.chunks.values()) bytes += c.bytes.length
    return {
      chunks: this.chunks.size,
      bytes,
      budgetBytes: Number.POSITIVE_INFINITY,
      pinned: this.refs.size,
      evictions: 0,
      dedupHits: 0
    }
  }
  async close(): Promise<void> {}
  /** Every chunk held, with its key. */
  entries(): { key: Key; bytes: Uint8Array }[] {
    return [...this.chunks.values()]
  }
}

/** Chunks of `store` whose SHA-256 is not their key (re-hashed on the drill side). */
export function corruptEntries(store: TrustingStore): number {
  let bad = 0
  for (const e of store.entries()) if (hex(sha256(e.bytes)) !== hex(e.key)) bad++
  return bad
}

/** Milliseconds since `t0` (performance clock), rounded to 0.1. */
export function msSince(t0: number): number {
  return Math.round((performance.now() - t0) * 10) / 10
}
