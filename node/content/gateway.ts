/**
 * The node as a gateway to the network's content (protocol/spec/local-api.md API-24,
 * chunk-exchange.md CHUNK-20): a file the node does not hold is found through the DHT, its
 * manifest asked from the providers in turn (and its size checked), then fetched from all of
 * them at once, verified chunk by chunk (CHUNK-13), resuming what the store already holds. The
 * fetched file is indexed (so `GET /file/<key>` serves it) and provided while it is held
 * (CHUNK-16: this is what makes a swarm). Bounded: fetches at once, bytes per file, one
 * fetch per file however many ask.
 */
import { setTimeout as delay } from 'node:timers/promises'
import type { PeerId } from '@libp2p/interface'
import type { ChunkExchange } from '../../cafs/adapters/libp2p/index.js'
import { ChunkCode } from '../../cafs/adapters/libp2p/index.js'
import { keyToHex } from '../../cafs/keys.js'
import { XferCode } from '../../cafs/transfer/index.js'
import type { AbortOptions, Key, Manifest } from '../../cafs/types.js'
import { BitwrkError, errorBuilder, isBitwrkError } from '../../protocol/errors.js'
import type { ProvidedFiles } from './provided.js'

/** Codes of the gateway (`CONTENT_*`; the API maps them, API-24). */
export const ContentCode = {
  /** Every gateway slot is taken (`maxConcurrent`). */
  BUSY: 'CONTENT_GATEWAY_BUSY',
  /** The file is larger than the gateway's `maxFileBytes`. */
  TOO_LARGE: 'CONTENT_TOO_LARGE',
  /** The gateway is stopped. */
  STOPPED: 'CONTENT_STOPPED'
} as const

/** Union of the gateway's own codes. */
export type ContentErrorCode = (typeof ContentCode)[keyof typeof ContentCode]

/** Creates the {@link BitwrkError} of a gateway failure. */
export const contentError = errorBuilder<ContentErrorCode>()

/** Defaults of the gateway (API-24). */
export const GATEWAY_DEFAULTS = {
  /** Files fetched at once; a request beyond is `CONTENT_GATEWAY_BUSY` (more would share the same links). */
  maxConcurrent: 4,
  /** Largest file fetched: 1 GiB, the upload limit of the API (API-4). */
  maxFileBytes: 2 ** 30,
  /** Providers looked up and fetched from (CHUNK-11's lookup default). */
  maxProviders: 8,
  /** Deadline of the DHT lookup, ms (CHUNK-11). */
  findTimeoutMs: 10_000,
  /** Deadline of one whole fetch, ms: 1 GiB at 2 MiB/s. */
  fetchTimeoutMs: 8 * 60_000
} as const

/** Limits of the gateway (API-24), see {@link GATEWAY_DEFAULTS}. */
export interface GatewayLimits {
  readonly maxConcurrent: number
  readonly maxFileBytes: number
  readonly maxProviders: number
  readonly findTimeoutMs: number
  readonly fetchTimeoutMs: number
}

/**
 * Longest wait for the announcement of a file being fetched before its first chunk request
 * (CHUNK-21): 2 s, far above a provide on a small network (20–80 ms, CHUNK-11); the fetch starts
 * anyway after it (the announcement goes on).
 */
const ANNOUNCE_WAIT_MS = 2000

/** The index the gateway records fetched files in (the node's file repository). */
export interface GatewayFileIndex {
  put(manifest: Manifest): Promise<void>
}

/** Options of {@link ContentGateway}. */
export interface ContentGatewayOptions {
  /** The node's chunk exchange (available once the node started). */
  readonly exchange: () => ChunkExchange
  /** Where fetched files are indexed. */
  readonly files: GatewayFileIndex
  /** Provided files: a fetched file is provided while held (CHUNK-16). */
  readonly provided?: ProvidedFiles
  /**
   * Peers connected now: without any, the DHT can name no provider, and kad-dht would wait for a
   * peer until the lookup's deadline (CHUNK-20 step 1 answers at once instead).
   */
  readonly connectedPeers?: () => number
  /** Overrides of {@link GATEWAY_DEFAULTS}. */
  readonly limits?: Partial<GatewayLimits>
  /** Clock (progress views); default `Date.now`. */
  readonly clock?: () => number
  /** Told how every fetch ended: `ok` or the failure's code (metrics). */
  readonly onFetch?: (result: string) => void
}

/** A fetch in progress (`GET /api/v1/fetches`, the CLI's progress bar). */
export interface FetchView {
  /** Hex file key. */
  readonly key: string
  /** `finding`, `manifest`, `fetching`. */
  readonly stage: 'finding' | 'manifest' | 'fetching'
  /** Providers found so far. */
  readonly providers: number
  /** File size once the manifest is known, else null. */
  readonly size: number | null
  /** Bytes that had to travel (chunks the store lacked) and bytes that arrived. */
  readonly bytesWanted: number
  readonly bytesReceived: number
  readonly startedMs: number
}

type Progress = { -readonly [K in keyof FetchView]: FetchView[K] }

/** Fetches files by key from their providers (API-24, CHUNK-20). */
export class ContentGateway {
  private readonly running = new Map<string, { promise: Promise<Manifest>; view: Progress }>()
  private readonly limits: GatewayLimits
  private readonly stopper = new AbortController()

  constructor(private readonly opts: ContentGatewayOptions) {
    this.limits = { ...GATEWAY_DEFAULTS, ...opts.limits }
  }

  /** True while the file (hex key) is being fetched. */
  isFetching(fileKeyHex: string): boolean {
    return this.running.has(fileKeyHex)
  }

  /** Fetches in progress. */
  active(): FetchView[] {
    return [...this.running.values()].map((r) => ({ ...r.view }))
  }

  /**
   * Fetches the file named `fileKey` (resolves with its manifest once every chunk is stored and
   * the file indexed). A second request for a file being fetched joins the first; `signal`
   * only ends the caller's wait. Fails with `CHUNK_NO_PROVIDERS` (nobody provides it),
   * `CHUNK_MANIFEST_NOT_FOUND` (providers found, none gave a manifest), `CONTENT_TOO_LARGE`,
   * `CONTENT_GATEWAY_BUSY`, or the fetch's code (`CAFS_XFER_UNAVAILABLE` …).
   */
  fetch(fileKey: Key, options: AbortOptions = {}): Promise<Manifest> {
    if (this.stopper.signal.aborted)
      return Promise.reject(contentError(ContentCode.STOPPED, 'gateway stopped'))
    const hex = keyToHex(fileKey)
    let run = this.running.get(hex)
    if (run === undefined) {
      if (this.running.size >= this.limits.maxConcurrent)
        return Promise.reject(
          contentError(ContentCode.BUSY, `${this.limits.maxConcurrent} gateway fetches already run`)
        )
      const view: Progress = {
        key: hex,
        stage: 'finding',
        providers: 0,
        size: null,
        bytesWanted: 0,
        bytesReceived: 0,
        startedMs: (this.opts.clock ?? Date.now)()
      }
      const promise = this.run(fileKey, view).then(
        (m) => {
          this.opts.onFetch?.('ok')
          return m
        },
        (err: unknown) => {
          this.opts.onFetch?.(isBitwrkError(err) ? err.code : 'error')
          throw err
        }
      )
      const r = { promise, view }
      run = r
      this.running.set(hex, r)
      void promise.then(
        () => this.running.delete(hex),
        () => this.running.delete(hex)
      )
    }
    return waitFor(run.promise, options.signal)
  }

  /** Aborts every fetch. Idempotent. */
  stop(): void {
    this.stopper.abort(contentError(ContentCode.STOPPED, 'gateway stopped'))
  }

  private async run(fileKey: Key, view: Progress): Promise<Manifest> {
    const signal = AbortSignal.any([this.stopper.signal, AbortSignal.timeout(this.limits.fetchTimeoutMs)])
    const exchange = this.opts.exchange()
    if (this.opts.connectedPeers?.() === 0)
      throw new BitwrkError(ChunkCode.NO_PROVIDERS, 'no provider of the file was found: no peer is connected')
    const providers: PeerId[] = []
    for await (const p of exchange.findProviders(fileKey, {
      maxProviders: this.limits.maxProviders,
      timeoutMs: this.limits.findTimeoutMs,
      signal
    })) {
      providers.push(p)
      view.providers = providers.length
    }
    if (providers.length === 0)
      throw new BitwrkError(ChunkCode.NO_PROVIDERS, 'no provider of the file was found')
    view.stage = 'manifest'
    const bad = new Set<string>()
    for (const from of providers) {
      let manifest: Manifest | undefined
      try {
        manifest = await exchange.getManifest(from, fileKey, { signal })
      } catch {
        signal.throwIfAborted()
        continue
      }
      if (manifest === undefined) continue
      if (manifest.size > this.limits.maxFileBytes)
        throw contentError(ContentCode.TOO_LARGE, `file larger than ${this.limits.maxFileBytes} bytes`, {
          size: manifest.size
        })
      view.stage = 'fetching'
      view.size = manifest.size
      // CHUNK-21: provided from now on (the chunks held so far), announced before the first
      // chunk request, so that the other fetchers of the file find this node and the file's
      // origin knows it shares (CHUNK-22); withdrawn again if the fetch fails
      const provided = this.opts.provided
      const sharing =
        provided !== undefined && provided.get(fileKey) === undefined && provided.add(manifest, 'fetched')
      if (sharing) await Promise.race([provided.idle(), delay(ANNOUNCE_WAIT_MS, undefined, { signal })])
      try {
        await exchange.fetchFile(manifest, {
          providers: providers.filter((p) => !bad.has(p.toString())),
          maxProviders: this.limits.maxProviders,
          signal,
          swarm: true,
          onProgress: (p) => {
            view.bytesWanted = p.bytesWanted
            view.bytesReceived = p.bytesReceived
          }
        })
      } catch (err) {
        if (sharing) provided.remove(fileKey)
        // CHUNK-13 step 4: the chunks were right, the manifest was not: the next provider's
        if (isBitwrkError(err, XferCode.FILE_KEY_MISMATCH)) {
          bad.add(from.toString())
          continue
        }
        throw err
      }
      await this.opts.files.put(manifest)
      this.opts.provided?.add(manifest, 'fetched')
      return manifest
    }
    throw new BitwrkError(ChunkCode.MANIFEST_NOT_FOUND, 'no provider gave a manifest of the file')
  }
}

/** `promise`, or the abort reason once `signal` fires (the promise runs on). */
function waitFor<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort)
        resolve(v)
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(err)
      }
    )
  })
}
