import type { Libp2p, PeerId } from '@libp2p/interface'
import { resolveLimits, type TransferLimits } from '../../transfer/index.js'
import type { AbortOptions, ChunkStore, Key, Manifest } from '../../types.js'
import { queryHave, queryManifest } from './client.js'
import { type DhtOptions, type FindProvidersOptions, findFileProviders, provideFile } from './dht.js'
import { fetchFileFromNetwork, type NetworkFetchOptions, type NetworkFetchResult } from './fetch.js'
import { ChunkServer, type ChunkServerOptions } from './server.js'

/** The part of libp2p the exchange uses (a full `Libp2p` fits). */
export type ExchangeLibp2p = Pick<
  Libp2p,
  'peerId' | 'handle' | 'unhandle' | 'dialProtocol' | 'contentRouting'
>

/**
 * Chunks over the network: one object per node wiring the chunk-exchange server, the
 * fetching side and DHT provider records to a libp2p node. All rules about content (hashing,
 * manifests, wishlists, multi-source scheduling) stay in CAFS; this is transport glue.
 */
export class ChunkExchange {
  private readonly server: ChunkServer
  private readonly limits: TransferLimits

  constructor(
    private readonly libp2p: ExchangeLibp2p,
    private readonly init: ChunkServerOptions
  ) {
    this.server = new ChunkServer(libp2p, init)
    this.limits = resolveLimits(init.limits)
  }

  /** Starts serving `/bitwrk/chunk/1.0.0`. */
  start(): Promise<void> {
    return this.server.start()
  }

  /** Stops serving; active streams are torn down. Idempotent. */
  stop(): Promise<void> {
    return this.server.stop()
  }

  /** True when `peer` (base58 id) used up its invalid-request budget. */
  isRefused(peer: string): boolean {
    return this.server.isRefused(peer)
  }

  /** Streams being served right now (of `peer` only, when given). */
  activeStreams(peer?: string): number {
    return this.server.activeStreams(peer)
  }

  /** Announces this node as a provider of the file (DHT, with a deadline). */
  provide(fileKey: Key, options?: DhtOptions): Promise<void> {
    return provideFile(this.libp2p, fileKey, options)
  }

  /** Providers of the file found through the DHT (with a deadline). */
  findProviders(fileKey: Key, options?: FindProvidersOptions): AsyncGenerator<PeerId> {
    return findFileProviders(this.libp2p, fileKey, options)
  }

  /** Asks `peer` which of `keys` it holds. */
  has(peer: PeerId, keys: readonly Key[], options?: AbortOptions): Promise<boolean[]> {
    return queryHave(this.libp2p, peer, keys, this.limits, options)
  }

  /** Asks `peer` for the manifest of `fileKey`; `undefined` when it does not hold it. */
  getManifest(peer: PeerId, fileKey: Key, options?: AbortOptions): Promise<Manifest | undefined> {
    return queryManifest(this.libp2p, peer, fileKey, this.limits, options)
  }

  /**
   * Fetches a file from several providers at once into `store` (default: the served store),
   * hashing on the server's `hashPool` unless the options name another.
   */
  async fetchFile(
    target: Manifest | Key,
    options: NetworkFetchOptions & { store?: ChunkStore } = {}
  ): Promise<NetworkFetchResult> {
    const result = await fetchFileFromNetwork(this.libp2p, target, options.store ?? this.init.store, {
      limits: this.init.limits,
      hashPool: this.init.hashPool,
      ...options,
      onBadProvider: (e) => {
        this.init.onBadProvider?.({ peer: e.peer.toString(), code: e.code })
        options.onBadProvider?.(e)
      }
    })
    this.init.onFetched?.({ chunks: result.chunksReceived, bytes: result.bytesReceived })
    return result
  }
}
