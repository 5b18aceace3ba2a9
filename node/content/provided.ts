/**
 * The files this node publishes (protocol/spec/chunk-exchange.md CHUNK-16 … CHUNK-19: uploads,
 * accepted results, files fetched by key): each is
 * announced with a DHT provider record (CHUNK-11), re-announced before the records expire, and
 * readable by any peer over `/bitwrk/chunk/1.0.0` (MANIFEST_GET, HAVE, GET) while it is
 * provided. A file stops being provided when a chunk of it left the store (evicted), when newer
 * files push it out of the bound, or when its time is up; nothing else is public (CHUNK-14).
 */
import { keyToHex } from '../../cafs/keys.js'
import { hasAllChunks } from '../../cafs/stream.js'
import type { AbortOptions, ChunkStore, Key, Manifest } from '../../cafs/types.js'
import { isBitwrkError } from '../../protocol/errors.js'

/**
 * Why a file is provided (CHUNK-16); a label of the metrics. (No `work`: the work a seller
 * receives over the trade is not provided, its hash being public on the transaction topic;
 * work inputs named by key are `fetched`.)
 */
export type ProvideReason = (typeof PROVIDE_REASONS)[number]

/** Every {@link ProvideReason}, for metric labels and tests. */
export const PROVIDE_REASONS = ['upload', 'result', 'fetched'] as const

/** Defaults of CHUNK-17 and CHUNK-18. */
export const PROVIDE_DEFAULTS = {
  /** Most files provided at once; beyond it the oldest is withdrawn first (CHUNK-17). */
  maxFiles: 4096,
  /**
   * Most chunk keys of provided files at once (CHUNK-17): 131,072 keys are 5 GiB of chunks at
   * the 38.8 KiB mean chunk (cafs.md), about 25 MB of index strings.
   */
  maxKeys: 131_072,
  /**
   * How long a file is provided after it was last added (upload, receipt, fetch), ms: a week
   * (CHUNK-17). Adding it again renews it.
   */
  ttlMs: 7 * 24 * 3_600_000,
  /**
   * Re-announce interval, ms (CHUNK-18): 12 h. kad-dht keeps a provider record 48 h
   * (`PROVIDERS_VALIDITY`, @libp2p/kad-dht 16) and its own reprovider renews a record of ours
   * only once it is 24 h old (`REPROVIDE_THRESHOLD`); announcing every 12 h keeps every record
   * fresh with two chances to spare, and keeps kad-dht's reprovider idle.
   */
  reprovideIntervalMs: 12 * 3_600_000,
  /** How often provided files are checked (presence, age, re-announce), ms: 10 minutes. */
  sweepIntervalMs: 10 * 60_000,
  /** DHT announcements in flight at once (a burst of uploads queues behind them). */
  announceConcurrency: 4
} as const

/** Bounds and intervals of {@link ProvidedFiles} (CHUNK-17, CHUNK-18), see {@link PROVIDE_DEFAULTS}. */
export interface ProvideLimits {
  readonly maxFiles: number
  readonly maxKeys: number
  readonly ttlMs: number
  readonly reprovideIntervalMs: number
  readonly announceConcurrency: number
}

/** Options of {@link ProvidedFiles}. */
export interface ProvidedFilesOptions {
  /** The chunk store the files are served from (presence checks). */
  readonly store: ChunkStore
  /** Announces a provider record for the file key (CHUNK-11); rejects on failure. */
  readonly announce: (fileKey: Key, options: AbortOptions) => Promise<void>
  /** Stops any re-announcement of the file key by the DHT itself (kad-dht `cancelReprovide`). */
  readonly withdraw?: (fileKey: Key) => Promise<void>
  /** False: nothing is provided, nothing is public (`--no-provide`). Default true. */
  readonly enabled?: boolean
  /** Clock, ms since the epoch; default `Date.now`. */
  readonly clock?: () => number
  /** Overrides of {@link PROVIDE_DEFAULTS}. */
  readonly limits?: Partial<ProvideLimits>
  /** Told of every announcement: `ok` or the failure's code. */
  readonly onAnnounce?: (result: string) => void
  /** Told when the set changed (metrics: files provided by reason). */
  readonly onChange?: () => void
  /** Told of every file newly provided, with its reason (the seeding policy, CHUNK-22). */
  readonly onAdd?: (manifest: Manifest, reason: ProvideReason) => void
  /** Told of every file no longer provided. */
  readonly onRemove?: (fileKey: Key) => void
  /**
   * True while the file (hex key) is being fetched (the gateway): its missing chunks are on their
   * way, so the presence check of {@link ProvidedFiles.sweep} leaves it alone (CHUNK-17).
   */
  readonly fetching?: (fileKeyHex: string) => boolean
}

/** One provided file. */
export interface ProvidedEntry {
  readonly manifest: Manifest
  readonly reason: ProvideReason
  /** When it was last added, ms. */
  readonly addedMs: number
  /** When its record was last announced successfully, ms; undefined before the first success. */
  readonly announcedMs: number | undefined
}

interface Entry {
  manifest: Manifest
  reason: ProvideReason
  addedMs: number
  announcedMs: number | undefined
  announcing: boolean
  /** Hex chunk keys, each once. */
  chunks: string[]
}

/** The provided files of one node: bounded, announced, re-announced, withdrawn (CHUNK-16 … CHUNK-19). */
export class ProvidedFiles {
  /** By hex file key, oldest addition first. */
  private readonly files = new Map<string, Entry>()
  /** Hex chunk key → provided files containing it. */
  private readonly chunkRefs = new Map<string, number>()
  private readonly limits: ProvideLimits
  private readonly clock: () => number
  private readonly queue: Entry[] = []
  private inFlight = 0
  private readonly stopper = new AbortController()

  constructor(private readonly opts: ProvidedFilesOptions) {
    this.limits = { ...PROVIDE_DEFAULTS, ...opts.limits }
    this.clock = opts.clock ?? Date.now
  }

  /** False under `--no-provide`. */
  get enabled(): boolean {
    return this.opts.enabled !== false
  }

  /**
   * Provides `manifest` (its chunks must be in the store): readable by any peer from now on,
   * announced on the DHT soon. Adding a provided file again renews its time. Returns false when
   * providing is off or the file alone exceeds the key bound.
   */
  add(manifest: Manifest, reason: ProvideReason): boolean {
    if (!this.enabled || this.stopper.signal.aborted) return false
    const hex = keyToHex(manifest.fileKey)
    const now = this.clock()
    const old = this.files.get(hex)
    if (old !== undefined) {
      // renewed, and moved to the young end of the bound
      this.files.delete(hex)
      old.addedMs = now
      this.files.set(hex, old)
      return true
    }
    const chunks = [...new Set(manifest.chunks.map((c) => keyToHex(c.key)))]
    if (chunks.length > this.limits.maxKeys) return false
    const e: Entry = { manifest, reason, addedMs: now, announcedMs: undefined, announcing: false, chunks }
    this.files.set(hex, e)
    for (const c of chunks) this.chunkRefs.set(c, (this.chunkRefs.get(c) ?? 0) + 1)
    // CHUNK-17: the oldest files go first
    for (const [oldest] of this.files) {
      if (this.files.size <= this.limits.maxFiles && this.chunkRefs.size <= this.limits.maxKeys) break
      this.remove(oldest)
    }
    this.opts.onAdd?.(manifest, reason)
    this.opts.onChange?.()
    this.schedule(e)
    return true
  }

  /** Stops providing the file (hex or raw file key): no longer readable, no longer announced. */
  remove(fileKey: string | Key): boolean {
    const hex = typeof fileKey === 'string' ? fileKey : keyToHex(fileKey)
    const e = this.files.get(hex)
    if (e === undefined) return false
    this.files.delete(hex)
    for (const c of e.chunks) {
      const n = (this.chunkRefs.get(c) ?? 1) - 1
      if (n <= 0) this.chunkRefs.delete(c)
      else this.chunkRefs.set(c, n)
    }
    this.opts.withdraw?.(e.manifest.fileKey).catch(() => {})
    this.opts.onRemove?.(e.manifest.fileKey)
    this.opts.onChange?.()
    return true
  }

  /** CHUNK-19: true when `key` (a file key or a chunk key) belongs to a provided file. */
  readable(key: Key): boolean {
    const hex = keyToHex(key)
    return this.chunkRefs.has(hex) || this.files.has(hex)
  }

  /** The manifest of a provided file (MANIFEST_GET), else undefined. */
  manifest(fileKey: Key): Manifest | undefined {
    return this.files.get(keyToHex(fileKey))?.manifest
  }

  /** The provided file, else undefined. */
  get(fileKey: Key): ProvidedEntry | undefined {
    const e = this.files.get(keyToHex(fileKey))
    return e === undefined
      ? undefined
      : { manifest: e.manifest, reason: e.reason, addedMs: e.addedMs, announcedMs: e.announcedMs }
  }

  /** Files provided now. */
  get size(): number {
    return this.files.size
  }

  /** Files provided now by reason (metrics). */
  countByReason(): Record<ProvideReason, number> {
    const out: Record<ProvideReason, number> = { upload: 0, result: 0, fetched: 0 }
    for (const e of this.files.values()) out[e.reason]++
    return out
  }

  /**
   * One check of every provided file (CHUNK-17, CHUNK-18): a file past its time or with a chunk
   * gone from the store is withdrawn; one whose record is older than the re-announce interval,
   * or whose last announcement failed, is announced again. The node runs it on a timer; tests
   * call it with their own clock. Resolves when the checks are done (announcements continue).
   */
  async sweep(options: AbortOptions = {}): Promise<{ withdrawn: number; announced: number }> {
    let withdrawn = 0
    let announced = 0
    for (const [hex, e] of [...this.files]) {
      options.signal?.throwIfAborted()
      const now = this.clock()
      const arriving = this.opts.fetching?.(hex) === true
      if (
        now - e.addedMs >= this.limits.ttlMs ||
        (!arriving && !(await hasAllChunks(e.manifest, this.opts.store, options)))
      ) {
        if (this.remove(hex)) withdrawn++
        continue
      }
      const due = e.announcedMs === undefined || now - e.announcedMs >= this.limits.reprovideIntervalMs
      if (due && !e.announcing) {
        this.schedule(e)
        announced++
      }
    }
    return { withdrawn, announced }
  }

  /** Resolves when no announcement is queued or running (tests). */
  async idle(): Promise<void> {
    while (this.inFlight > 0 || this.queue.length > 0)
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve)
      })
  }

  /** Stops announcing; provided files stay readable until the node stops. Idempotent. */
  stop(): void {
    this.stopper.abort()
    this.queue.length = 0
    if (this.inFlight === 0) for (const w of this.waiters.splice(0)) w()
  }

  private readonly waiters: (() => void)[] = []

  private schedule(e: Entry): void {
    if (e.announcing) return
    e.announcing = true
    this.queue.push(e)
    this.pump()
  }

  private pump(): void {
    while (this.inFlight < this.limits.announceConcurrency && this.queue.length > 0) {
      const e = this.queue.shift() as Entry
      this.inFlight++
      void this.announce(e).finally(() => {
        this.inFlight--
        e.announcing = false
        this.pump()
        if (this.inFlight === 0 && this.queue.length === 0) for (const w of this.waiters.splice(0)) w()
      })
    }
  }

  private async announce(e: Entry): Promise<void> {
    // withdrawn while queued, or the node stops
    if (this.files.get(keyToHex(e.manifest.fileKey)) !== e || this.stopper.signal.aborted) return
    try {
      await this.opts.announce(e.manifest.fileKey, { signal: this.stopper.signal })
      e.announcedMs = this.clock()
      this.opts.onAnnounce?.('ok')
    } catch (err) {
      if (this.stopper.signal.aborted) return
      // retried at the next sweep (announcedMs stays as it was)
      this.opts.onAnnounce?.(isBitwrkError(err) ? err.code : 'error')
    }
  }
}
