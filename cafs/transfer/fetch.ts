import { setMaxListeners } from 'node:events'
import { setTimeout as delay } from 'node:timers/promises'
import { isBitwrkError } from '../../protocol/errors.js'
import type { HashPool } from '../hash-pool.js'
import { keysEqual, keyToHex } from '../keys.js'
import { putChunk } from '../store/verify.js'
import type { AbortOptions, ChunkStore, Key, Manifest } from '../types.js'
import { VerifiedChunk } from '../verified.js'
import { MISBEHAVIOUR_CODES, XferCode, xferError } from './errors.js'
import { FileKeyCursor } from './filekey.js'
import { abortToError } from './framing.js'
import { resolveLimits, type TransferLimits } from './limits.js'
import { mapAhead } from './readahead.js'
import { checkChunk, deleteAll, planWishlist, unpinAll, type XferProgress } from './receive.js'
import type { ChunkSource, FetchedChunk } from './source.js'

/** A provider of chunks, named by the caller (a peer id, an address). */
export interface Provider {
  readonly id: string
  readonly source: ChunkSource
}

/** A provider proved to misbehave (wrong chunk, protocol violation): penalise it. */
export interface BadProviderEvent {
  readonly provider: string
  readonly code: string
}

/** A provider failed in a way that may be innocent (timeout, closed stream, its own error). */
export interface ProviderErrorEvent {
  readonly provider: string
  readonly code: string
}

/** Options of {@link fetchFile}. */
export interface FetchOptions extends AbortOptions {
  /** Overrides of the default limits; `messageTimeoutMs` is the per-message timeout. */
  limits?: Partial<TransferLimits>
  /** Most chunks per request (default {@link DEFAULT_BATCH_CHUNKS}). */
  batchChunks?: number
  /** Most chunk bytes per request (default {@link DEFAULT_BATCH_BYTES}). */
  batchBytes?: number
  /** Deadline of one request; on expiry its unanswered chunks go to another provider. */
  requestTimeoutMs?: number
  /**
   * Requests each provider works on at once (default {@link DEFAULT_REQUESTS_PER_PROVIDER}).
   * With more than one, the next GET is served while an answer drains (no idle round trip
   * between batches); a bad provider is still reported once, but may have delivered good
   * chunks on its other requests meanwhile (each of them verified).
   */
  requestsPerProvider?: number
  /** Innocent failures in a row before a provider is dropped (default 2). */
  maxProviderFailures?: number
  /** Leave every chunk of the manifest pinned after success (the caller unpins later). */
  keepPinned?: boolean
  /** A provider sent a wrong chunk or broke the protocol; it gets no more work. */
  onBadProvider?: (event: BadProviderEvent) => void
  /** A provider timed out or failed; its unanswered chunks were re-assigned. */
  onProviderError?: (event: ProviderErrorEvent) => void
  /** Called after each stored chunk. */
  onProgress?: (progress: XferProgress) => void
  /**
   * Hash chunks and the file key on these worker threads instead of the main thread (the
   * caller owns and closes the pool). Up to {@link HASH_AHEAD} chunks are hashed ahead.
   */
  hashPool?: HashPool
  /**
   * Swarm fetching (XFER-21b): when some chunks have no provider left, ask for more providers
   * instead of failing (e.g. a new DHT lookup, which finds the peers that started fetching the
   * same file since and serve what they hold), then try every provider again for every chunk
   * still wanted. Providers already known (by id) are ignored. Without it, XFER-21 holds.
   */
  moreProviders?: (options: AbortOptions) => Promise<readonly Provider[]>
  /** Retry rounds of {@link moreProviders} before the fetch fails (default {@link DEFAULT_RETRY_ROUNDS}). */
  maxRetryRounds?: number
  /** Wait before a retry round, ms (default {@link DEFAULT_RETRY_DELAY_MS}). */
  retryDelayMs?: number
  /**
   * A source of numbers in [0, 1) to fetch the batches in random order (XFER-21b): fetchers of
   * one file then hold different chunks early and can serve each other. Default: in order.
   */
  random?: () => number
  /** A {@link moreProviders} lookup failed (the fetch goes on with the providers it has). */
  onLookupError?: (err: unknown) => void
}

/**
 * Default retry rounds of a swarm fetch (XFER-21b): 120 rounds of at least
 * {@link DEFAULT_RETRY_DELAY_MS} are a minute without any provider for some chunk.
 */
export const DEFAULT_RETRY_ROUNDS = 120
/**
 * Default wait before a retry round: 500 ms, about ten DHT lookups and provider announcements
 * on a small network (20–80 ms each, CHUNK-11), so that a peer that started fetching the file
 * is found, while chunks refused now are asked again soon.
 */
export const DEFAULT_RETRY_DELAY_MS = 500

/**
 * Default requests in flight per provider: three keep a provider's pipe full over loopback and
 * LAN round trips (measured by `npm run bench -- --filter transfer`: one request in flight left
 * both ends idle between batches and halved the throughput).
 */
export const DEFAULT_REQUESTS_PER_PROVIDER = 3
/**
 * Default most chunk bytes per request: 4 MiB (16 requests for the 64 MiB bench file). A
 * smaller file is cut so that every request slot of every provider gets a share, down to
 * {@link MIN_BATCH_BYTES}.
 */
export const DEFAULT_BATCH_BYTES = 4 << 20
/** Smallest default batch: 256 KiB, one target-sized CHUNKS message. */
export const MIN_BATCH_BYTES = 256 << 10
/** Default most chunks per request (~9 MiB of 37 KiB average chunks; `batchBytes` binds first). */
export const DEFAULT_BATCH_CHUNKS = 256

/** Chunks of one request hashed ahead of the one being stored, when a hash pool is used. */
export const HASH_AHEAD = 64

/** Outcome of a successful {@link fetchFile}. */
export interface FetchResult extends XferProgress {
  /** Chunks and bytes each provider delivered (verified). */
  readonly perProvider: ReadonlyMap<string, { chunks: number; bytes: number }>
}

interface Batch {
  readonly indices: readonly number[]
  /** Providers that failed this work already. */
  readonly exclude: ReadonlySet<string>
}

/**
 * Fetches the chunks of `manifest` the store lacks from several providers at once (XFER-18 …
 * XFER-21). The wishlist is cut into batches; each provider works through batches one request
 * at a time, so fast providers take more. A request that fails or passes its deadline hands
 * its unanswered chunks back for another provider. Every chunk is re-hashed before `put`; a
 * provider that sends a wrong chunk is reported through `onBadProvider` and gets no more work.
 * The file key is hashed over all chunks in order as they arrive and checked at the end.
 *
 * Fails with `CAFS_XFER_UNAVAILABLE` when some chunk has no provider left (chunks already
 * stored stay, so a later call resumes), `CAFS_XFER_FILE_KEY_MISMATCH` (stored chunks are
 * deleted again) or the abort error.
 */
export async function fetchFile(
  manifest: Manifest,
  providers: readonly Provider[],
  store: ChunkStore,
  options: FetchOptions = {}
): Promise<FetchResult> {
  const limits = resolveLimits(options.limits)
  const pinned: Key[] = []
  const added: Key[] = []
  const all = new AbortController()
  // each request in flight listens on `all` (providers × lanes of them): not a leak
  // (a swarm fetch adds providers, each with its lanes, up to what the lookups find)
  const most = options.moreProviders === undefined ? providers.length : Math.max(providers.length, 64)
  setMaxListeners(Math.max(10, most * lanesOf(options) + 8), all.signal)
  let fileKey: FileKeyCursor | undefined
  const onOuterAbort = (): void => all.abort(abortToError(options.signal?.reason))
  options.signal?.addEventListener('abort', onOuterAbort, { once: true })
  try {
    options.signal?.throwIfAborted()
    const wanted = await planWishlist(manifest, store, pinned, options)
    // The file key over every chunk in order: catches a manifest that does not describe a file.
    fileKey = new FileKeyCursor(manifest, store, wanted, options.hashPool)
    const run = new FetchRun(manifest, providers, store, limits, options, all, added, fileKey)
    try {
      await run.start(wanted)
    } finally {
      run.finished = true
    }
    if (!keysEqual(await fileKey.digest({ signal: all.signal }), manifest.fileKey))
      throw xferError(XferCode.FILE_KEY_MISMATCH, 'chunks do not assemble to the file key', {
        fileKey: keyToHex(manifest.fileKey)
      })
    if (options.keepPinned !== true) await unpinAll(store, pinned)
    return { ...run.progress, perProvider: run.perProvider }
  } catch (err) {
    const e = options.signal?.aborted && !isBitwrkError(err) ? abortToError(options.signal.reason) : err
    all.abort(e)
    fileKey?.discard()
    await unpinAll(store, pinned)
    if (isBitwrkError(e) && MISBEHAVIOUR_CODES.has(e.code)) await deleteAll(store, added)
    throw e
  } finally {
    options.signal?.removeEventListener('abort', onOuterAbort)
  }
}

/** The scheduling state of one {@link fetchFile} call. */
class FetchRun {
  progress: XferProgress = { chunksWanted: 0, bytesWanted: 0, chunksReceived: 0, bytesReceived: 0 }
  readonly perProvider = new Map<string, { chunks: number; bytes: number }>()
  private pending: Batch[] = []
  private readonly active: Set<string>
  private readonly failures = new Map<string, number>()
  private failure: unknown
  private waiters: (() => void)[] = []
  private readonly requestTimeoutMs: number
  private readonly maxFailures: number
  /** Every provider's workers, including those of providers added by retry rounds. */
  private readonly workers: Promise<void>[] = []
  private readonly providers: Provider[]
  private retryRounds = 0
  private receivedAtLastRound = 0
  private retrying = false
  /** Aborted once {@link start} returned: a retry round still waiting ends. */
  private readonly closed = new AbortController()
  /** Set once {@link start} returned: a retry round still waiting does nothing more. */
  get finished(): boolean {
    return this.closed.signal.aborted
  }
  set finished(done: boolean) {
    if (done) this.closed.abort()
  }

  constructor(
    private readonly manifest: Manifest,
    providers: readonly Provider[],
    private readonly store: ChunkStore,
    private readonly limits: TransferLimits,
    private readonly options: FetchOptions,
    private readonly all: AbortController,
    private readonly added: Key[],
    private readonly fileKey: FileKeyCursor
  ) {
    this.providers = [...providers]
    this.active = new Set(providers.map((p) => p.id))
    for (const p of providers) this.perProvider.set(p.id, { chunks: 0, bytes: 0 })
    this.requestTimeoutMs = options.requestTimeoutMs ?? 60_000
    this.maxFailures = options.maxProviderFailures ?? 2
    all.signal.addEventListener('abort', () => this.notify(), { once: true })
  }

  /** Runs every provider's worker until all wanted chunks are stored or the fetch fails. */
  async start(wanted: readonly number[]): Promise<void> {
    let bytesWanted = 0
    for (const i of wanted) bytesWanted += this.manifest.chunks[i]!.size
    this.progress = { ...this.progress, chunksWanted: wanted.length, bytesWanted }
    const maxChunks = Math.min(
      this.options.batchChunks ?? DEFAULT_BATCH_CHUNKS,
      this.limits.maxKeysPerRequest
    )
    const lanes = lanesOf(this.options)
    // Spread a small file over every request slot instead of one big batch.
    const share = Math.ceil(bytesWanted / Math.max(1, this.providers.length * lanes))
    const maxBytes =
      this.options.batchBytes ?? Math.min(DEFAULT_BATCH_BYTES, Math.max(MIN_BATCH_BYTES, share))
    this.pending = makeBatches(this.manifest, wanted, maxChunks, maxBytes)
    const random = this.options.random
    if (random !== undefined) shuffle(this.pending, random)
    this.checkStuck()
    for (const p of this.providers) this.startWorkers(p)
    // retry rounds may add providers (and workers) while these run
    for (let i = 0; i < this.workers.length; i++) await this.workers[i]
    // `fail` records its cause before aborting; otherwise the caller's signal fired.
    if (this.failure !== undefined) throw this.failure
    if (this.all.signal.aborted) throw abortToError(this.all.signal.reason)
  }

  private notify(): void {
    const w = this.waiters
    this.waiters = []
    for (const f of w) f()
  }

  private fail(err: unknown): void {
    this.failure ??= err
    this.all.abort(err)
  }

  private startWorkers(p: Provider): void {
    for (let i = 0; i < lanesOf(this.options); i++) this.workers.push(this.worker(p))
  }

  /**
   * Fails when a pending batch has no active provider left that has not failed it, unless a
   * retry round (XFER-21b) may still find one.
   */
  private checkStuck(): void {
    for (const b of this.pending)
      if (![...this.active].some((id) => !b.exclude.has(id))) {
        if (this.retrying) return
        if (
          this.options.moreProviders !== undefined &&
          this.retryRounds < (this.options.maxRetryRounds ?? DEFAULT_RETRY_ROUNDS)
        ) {
          void this.retryRound()
          return
        }
        this.fail(
          xferError(XferCode.UNAVAILABLE, 'no provider left for some chunks', {
            firstIndex: b.indices[0],
            chunks: b.indices.length
          })
        )
        return
      }
  }

  /**
   * XFER-21b: waits, asks for more providers, starts workers for the new ones, and makes every
   * pending chunk eligible for every provider again (a peer that held nothing may hold it now).
   */
  private async retryRound(): Promise<void> {
    const more = this.options.moreProviders
    if (more === undefined) return
    this.retrying = true
    // rounds count while nothing arrives: a swarm fetch that progresses may take many
    if (this.progress.chunksReceived > this.receivedAtLastRound) this.retryRounds = 0
    this.receivedAtLastRound = this.progress.chunksReceived
    this.retryRounds++
    const signal = AbortSignal.any([this.all.signal, this.closed.signal])
    try {
      await delay(this.options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS, undefined, { signal })
      const found = await more({ signal })
      if (this.finished || this.all.signal.aborted) return
      const known = new Set(this.providers.map((p) => p.id))
      for (const p of found) {
        if (known.has(p.id)) continue
        known.add(p.id)
        this.providers.push(p)
        this.active.add(p.id)
        this.perProvider.set(p.id, { chunks: 0, bytes: 0 })
        this.startWorkers(p)
      }
      this.pending = this.pending.map((b) => ({ indices: b.indices, exclude: new Set<string>() }))
    } catch (err) {
      // our own abort ends the round; a lookup that failed leaves the providers as they are
      if (signal.aborted) return
      this.pending = this.pending.map((b) => ({ indices: b.indices, exclude: new Set<string>() }))
      this.options.onLookupError?.(err)
    } finally {
      this.retrying = false
    }
    if (this.finished || this.all.signal.aborted) return
    this.checkStuck()
    this.notify()
  }

  private inFlight = 0

  private async worker(p: Provider): Promise<void> {
    while (!this.all.signal.aborted && this.active.has(p.id)) {
      const at = this.pending.findIndex((b) => !b.exclude.has(p.id))
      if (at < 0) {
        if (this.pending.length === 0 && this.inFlight === 0) {
          this.notify()
          return
        }
        await new Promise<void>((resolve) => this.waiters.push(resolve))
        continue
      }
      const batch = this.pending.splice(at, 1)[0]!
      this.inFlight++
      try {
        const left = await this.runBatch(p, batch)
        if (left.length > 0 && !this.all.signal.aborted)
          this.pending.push({ indices: left, exclude: new Set([...batch.exclude, p.id]) })
      } catch (err) {
        // Only local failures (the store) get here: they end the whole fetch.
        this.fail(err)
      } finally {
        this.inFlight--
        if (!this.all.signal.aborted) this.checkStuck()
        this.notify()
      }
    }
  }

  /** One request: returns the indices of `batch` that were not stored. */
  private async runBatch(p: Provider, batch: Batch): Promise<number[]> {
    const stored = new Set<number>()
    const seen = new Set<number>()
    const req = new AbortController()
    const onAll = (): void => req.abort(this.all.signal.reason)
    this.all.signal.addEventListener('abort', onAll, { once: true })
    const timer = setTimeout(
      () =>
        req.abort(
          xferError(XferCode.TIMEOUT, 'request deadline passed', { requestTimeoutMs: this.requestTimeoutMs })
        ),
      this.requestTimeoutMs
    )
    try {
      const keys = batch.indices.map((i) => this.manifest.chunks[i]!.key)
      const pool = this.options.hashPool
      // The hash starts as soon as a record is decoded; its result is checked in order below.
      const hashOf = async (item: FetchedChunk): Promise<VerifiedChunk | undefined> => {
        if ('missing' in item) return undefined
        const ref = this.manifest.chunks[batch.indices[item.index] ?? -1]
        // Out-of-range and wrong-sized answers are refused below with their own codes.
        if (ref === undefined || item.bytes.length !== ref.size) return undefined
        // A closed pool is our own problem, not the provider's: the check below hashes here.
        return VerifiedChunk.checkOn(pool, ref.key, item.bytes, item.owned).catch(() => undefined)
      }
      const answers = mapAhead(p.source.fetch(keys, { signal: req.signal }), hashOf, pool ? HASH_AHEAD : 1)
      for await (const [item, verified] of answers) {
        req.signal.throwIfAborted()
        const index = batch.indices[item.index]
        if (index === undefined || seen.has(item.index))
          throw xferError(XferCode.UNSOLICITED_CHUNK, 'answer for a position not asked for', {
            position: item.index
          })
        seen.add(item.index)
        if ('missing' in item) continue
        const ref = this.manifest.chunks[index]!
        const chunk = verified ?? checkChunk(ref.key, ref.size, item.bytes, index, item.owned)
        try {
          await putChunk(this.store, chunk, { signal: this.all.signal })
        } catch (err) {
          throw new LocalFailure(err)
        }
        this.added.push(ref.key)
        stored.add(item.index)
        try {
          await this.fileKey.stored(index, item.bytes, { signal: this.all.signal })
        } catch (err) {
          throw new LocalFailure(err)
        }
        const stats = this.perProvider.get(p.id)!
        stats.chunks++
        stats.bytes += item.bytes.length
        this.progress = {
          ...this.progress,
          chunksReceived: this.progress.chunksReceived + 1,
          bytesReceived: this.progress.bytesReceived + item.bytes.length
        }
        this.options.onProgress?.(this.progress)
      }
      this.failures.set(p.id, 0)
    } catch (err) {
      if (err instanceof LocalFailure) throw err.cause
      if (!this.all.signal.aborted) this.blame(p, err, req.signal)
    } finally {
      clearTimeout(timer)
      this.all.signal.removeEventListener('abort', onAll)
      // Ends a read the hash read-ahead may still have pending (the stream is then dropped).
      req.abort(xferError(XferCode.ABORTED, 'request finished'))
    }
    return batch.indices.filter((_i, pos) => !stored.has(pos))
  }

  /** Reports a failed request: misbehaviour drops the provider, other failures count. */
  private blame(p: Provider, err: unknown, signal: AbortSignal): void {
    const e = signal.aborted && !isBitwrkError(err) ? abortToError(signal.reason) : err
    const code = isBitwrkError(e) ? e.code : XferCode.CLOSED
    if (MISBEHAVIOUR_CODES.has(code)) {
      // Reported once, even when its other requests fail as well.
      if (this.active.delete(p.id)) this.options.onBadProvider?.({ provider: p.id, code })
      return
    }
    const n = (this.failures.get(p.id) ?? 0) + 1
    this.failures.set(p.id, n)
    if (n >= this.maxFailures) this.active.delete(p.id)
    this.options.onProviderError?.({ provider: p.id, code })
  }
}

/** Wraps a failure of our own store so it is not blamed on the provider. */
class LocalFailure extends Error {
  constructor(override readonly cause: unknown) {
    super('local store failure')
  }
}

/** Requests each provider works on at once: the option, at least 1. */
function lanesOf(options: FetchOptions): number {
  return Math.max(1, options.requestsPerProvider ?? DEFAULT_REQUESTS_PER_PROVIDER)
}

/** Fisher–Yates shuffle of `items` in place with `random` in [0, 1). */
function shuffle<T>(items: T[], random: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.min(i, Math.floor(random() * (i + 1)))
    const t = items[i] as T
    items[i] = items[j] as T
    items[j] = t
  }
}

/** Cuts the wanted indices into batches of at most `maxChunks` chunks and `maxBytes` bytes. */
function makeBatches(
  manifest: Manifest,
  wanted: readonly number[],
  maxChunks: number,
  maxBytes: number
): Batch[] {
  const out: Batch[] = []
  let cur: number[] = []
  let bytes = 0
  for (const i of wanted) {
    const size = manifest.chunks[i]!.size
    if (cur.length > 0 && (cur.length >= maxChunks || bytes + size > maxBytes)) {
      out.push({ indices: cur, exclude: new Set() })
      cur = []
      bytes = 0
    }
    cur.push(i)
    bytes += size
  }
  if (cur.length > 0) out.push({ indices: cur, exclude: new Set() })
  return out
}
