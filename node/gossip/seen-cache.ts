import { evictOldest } from '../../protocol/util/index.js'
/** A remembered final verdict of the validator. */
export type SeenVerdict = 'accept' | 'reject'

interface Entry {
  verdict: SeenVerdict
  code: string | undefined
  expiresMs: number
}

/**
 * GOSSIP-5: message ids (SHA-256 of the bytes) with the validator's final verdict, bounded by
 * count and time. GossipSub's own seen cache forgets after 2 minutes; this one lets the adapter
 * answer a replay of an old message without running the signature check again.
 */
export class SeenCache {
  private readonly entries = new Map<string, Entry>()

  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now
  ) {}

  /** The remembered verdict of `id`, if any and not expired. */
  get(id: string): { verdict: SeenVerdict; code: string | undefined } | undefined {
    const e = this.entries.get(id)
    if (e === undefined) return undefined
    if (e.expiresMs <= this.now()) {
      this.entries.delete(id)
      return undefined
    }
    return { verdict: e.verdict, code: e.code }
  }

  /** Remembers a verdict; the oldest entry goes when the cache is full. */
  put(id: string, verdict: SeenVerdict, code?: string): void {
    this.entries.delete(id)
    evictOldest(this.entries, this.maxEntries - 1)
    this.entries.set(id, { verdict, code, expiresMs: this.now() + this.ttlMs })
  }

  /** Number of entries (including not yet evicted expired ones). */
  get size(): number {
    return this.entries.size
  }
}
