/**
 * Seeding an uploaded file to a swarm (protocol/spec/chunk-exchange.md CHUNK-22; BitTorrent's
 * "super-seeding"): when several peers fetch a file this node uploaded (e.g. the asset of a
 * job, RAYS-10), each chunk should leave this node about once and travel on between the
 * fetchers, who provide the file while they fetch it (CHUNK-21). So once a chunk went to a
 * peer that provides the file, another peer asking for it is answered "not held" for a while:
 * its fetch takes the chunk from the peers that have it. The policy only ever delays a copy:
 * a peer that asks again after {@link SEED_DEFAULTS}.reaskMs gets it, and so does every peer
 * while the first recipient is not known to provide the file (a fetcher that does not share,
 * `--no-provide`, is served as before).
 */
import { keyToHex } from '../../cafs/keys.js'
import type { Key, Manifest } from '../../cafs/types.js'

/** Defaults of CHUNK-22. */
export const SEED_DEFAULTS = {
  /**
   * How long a peer refused a chunk waits before this node serves it a copy anyway: 3 s,
   * several of a swarm fetch's retry rounds (500 ms, XFER-21b) for the peers holding it to
   * serve it, short enough that a recipient that went away costs little.
   */
  reaskMs: 3000,
  /** Most files seeded at once; beyond it the oldest stops being seeded. */
  maxFiles: 64,
  /** Most chunks of seeded files at once (a 64 MiB file has ~1,700 at the 38.8 KiB mean). */
  maxChunks: 131_072,
  /** Most refused peers remembered per chunk (a swarm's fetchers). */
  maxRefusedPerChunk: 64
} as const

/** The limits of CHUNK-22 (see {@link SEED_DEFAULTS}). */
export type SeedLimits = { readonly [K in keyof typeof SEED_DEFAULTS]: number }

/** Options of {@link Seeder}. */
export interface SeederOptions {
  /**
   * The peers (base58 ids) known to provide the file right now, from a cache the caller keeps
   * fresh (DHT lookups); must be cheap and must not throw.
   */
  readonly providers: (fileKey: Key) => ReadonlySet<string>
  /** Clock, ms; default `Date.now`. */
  readonly clock?: () => number
  /** Overrides of {@link SEED_DEFAULTS}. */
  readonly limits?: Partial<SeedLimits>
  /** Told of every refusal (metrics). */
  readonly onRefused?: () => void
}

/** One chunk of a seeded file. */
interface ChunkState {
  readonly fileKey: Key
  /** The peer this node first served it to. */
  first: string | undefined
  /** Peers refused it, with the time of the refusal. */
  readonly refused: Map<string, number>
}

/** The seeding policy of a node's uploaded files (CHUNK-22); `allows` composes with the access policy. */
export class Seeder {
  private readonly files = new Map<string, string[]>()
  private readonly chunks = new Map<string, ChunkState>()
  private readonly limits: SeedLimits
  private readonly clock: () => number

  constructor(private readonly opts: SeederOptions) {
    this.limits = { ...SEED_DEFAULTS, ...opts.limits }
    this.clock = opts.clock ?? Date.now
  }

  /** Seeds `manifest`'s chunks from now on (a file of one chunk is served as usual). */
  seed(manifest: Manifest): void {
    const hex = keyToHex(manifest.fileKey)
    if (this.files.has(hex) || manifest.chunks.length < 2) return
    const keys: string[] = []
    for (const c of manifest.chunks) {
      const k = keyToHex(c.key)
      // a chunk shared with another seeded file keeps its first state
      if (this.chunks.has(k)) continue
      this.chunks.set(k, { fileKey: manifest.fileKey, first: undefined, refused: new Map() })
      keys.push(k)
    }
    this.files.set(hex, keys)
    for (const [oldest] of this.files) {
      if (this.files.size <= this.limits.maxFiles && this.chunks.size <= this.limits.maxChunks) break
      this.unseed(oldest)
    }
  }

  /** Stops seeding the file (hex or raw key): its chunks are served as usual again. */
  unseed(fileKey: string | Key): void {
    const hex = typeof fileKey === 'string' ? fileKey : keyToHex(fileKey)
    const keys = this.files.get(hex)
    if (keys === undefined) return
    this.files.delete(hex)
    for (const k of keys) this.chunks.delete(k)
  }

  /** Files seeded now. */
  get size(): number {
    return this.files.size
  }

  /**
   * CHUNK-22: may this node serve `key` to `peer` now? True for keys of no seeded file, for the
   * first peer to ask, for that peer again, when the peer that got it is not known to provide
   * the file, and for a peer refused at least `reaskMs` ago; false otherwise.
   */
  allows(peer: string, key: Key): boolean {
    const c = this.chunks.get(keyToHex(key))
    if (c === undefined) return true
    if (c.first === undefined || c.first === peer) {
      c.first = peer
      return true
    }
    if (!this.opts.providers(c.fileKey).has(c.first)) return true
    const now = this.clock()
    const at = c.refused.get(peer)
    if (at !== undefined && now - at >= this.limits.reaskMs) {
      c.refused.delete(peer)
      return true
    }
    if (at === undefined && c.refused.size < this.limits.maxRefusedPerChunk) c.refused.set(peer, now)
    // a peer beyond the per-chunk bound is served (never refused without a record of it)
    if (at === undefined && !c.refused.has(peer)) return true
    this.opts.onRefused?.()
    return false
  }
}

/** Defaults of {@link ProviderCache}. */
export const PROVIDER_CACHE_DEFAULTS = {
  /**
   * A file's providers are looked up again when the last lookup is older than this, ms: 250, a
   * fraction of the fetchers' retry delay (XFER-21b), and about ten lookups' time on a small
   * network (2–36 ms each, CHUNK-11).
   */
  refreshMs: 250,
  /** Deadline of one lookup, ms. */
  lookupTimeoutMs: 5000,
  /** Files whose providers are remembered; beyond it the least recently asked is dropped. */
  maxFiles: 64
} as const

/** The limits of {@link ProviderCache} (see {@link PROVIDER_CACHE_DEFAULTS}). */
export type ProviderCacheLimits = { readonly [K in keyof typeof PROVIDER_CACHE_DEFAULTS]: number }

/** Looks up the providers of a file (base58 peer ids), e.g. the DHT's (CHUNK-11). */
export type ProviderLookup = (fileKey: Key, signal: AbortSignal) => AsyncIterable<string>

interface CacheEntry {
  peers: Set<string>
  lookedUpMs: number
  busy: boolean
}

/**
 * The providers of files as the last lookup found them, for {@link Seeder}: `get` answers at
 * once from the cache and starts a lookup in the background when the entry is older than
 * `refreshMs` (one at a time per file), so that the serving path never waits on the DHT.
 */
export class ProviderCache {
  private readonly entries = new Map<string, CacheEntry>()
  private readonly limits: ProviderCacheLimits
  private readonly stopper = new AbortController()

  constructor(
    private readonly lookup: ProviderLookup,
    private readonly clock: () => number = Date.now,
    limits: Partial<ProviderCacheLimits> = {}
  ) {
    this.limits = { ...PROVIDER_CACHE_DEFAULTS, ...limits }
  }

  /** The providers of `fileKey` known now (possibly none yet); refreshes in the background. */
  get(fileKey: Key): ReadonlySet<string> {
    const hex = keyToHex(fileKey)
    let e = this.entries.get(hex)
    if (e === undefined) {
      e = { peers: new Set(), lookedUpMs: Number.NEGATIVE_INFINITY, busy: false }
      this.entries.set(hex, e)
      for (const [oldest] of this.entries) {
        if (this.entries.size <= this.limits.maxFiles) break
        this.entries.delete(oldest)
      }
    } else {
      // least recently asked last
      this.entries.delete(hex)
      this.entries.set(hex, e)
    }
    if (!e.busy && !this.stopper.signal.aborted && this.clock() - e.lookedUpMs >= this.limits.refreshMs)
      void this.refresh(fileKey, e)
    return e.peers
  }

  /** Ends every lookup; `get` answers from the cache only from now on. */
  stop(): void {
    this.stopper.abort()
  }

  private async refresh(fileKey: Key, e: CacheEntry): Promise<void> {
    e.busy = true
    const found = new Set<string>()
    try {
      const signal = AbortSignal.any([this.stopper.signal, AbortSignal.timeout(this.limits.lookupTimeoutMs)])
      for await (const p of this.lookup(fileKey, signal)) found.add(p)
      e.peers = found
    } catch {
      // a failed lookup keeps what the last one found
    } finally {
      e.lookedUpMs = this.clock()
      e.busy = false
    }
  }
}
