import type { Libp2p, PeerId } from '@libp2p/interface'
import { isBitwrkError } from '../../../protocol/errors.js'
import { isKey } from '../../keys.js'
import {
  type FetchOptions,
  type FetchResult,
  fetchFile as fetchFromProviders,
  MISBEHAVIOUR_CODES,
  type Provider,
  resolveLimits,
  type TransferLimits,
  XferCode
} from '../../transfer/index.js'
import type { ChunkStore, Key, Manifest } from '../../types.js'
import { PeerChunkSource, queryManifest } from './client.js'
import { type DhtLibp2p, findFileProviders } from './dht.js'
import { ChunkCode, chunkError } from './errors.js'

/** The part of libp2p a network fetch uses. */
export type FetchLibp2p = DhtLibp2p & Pick<Libp2p, 'dialProtocol'>

/** A provider proved to misbehave (wrong chunk, wrong manifest, protocol violation). */
export interface BadPeerEvent {
  readonly peer: PeerId
  /** The CAFS code of the proof (`CAFS_HASH_MISMATCH`, `CAFS_XFER_MANIFEST_MISMATCH` …). */
  readonly code: string
}

/** A provider failed in a way that may be innocent (timeout, closed stream, dial failure). */
export interface PeerErrorEvent {
  readonly peer: PeerId
  readonly code: string
}

/** Options of {@link fetchFileFromNetwork}. */
export interface NetworkFetchOptions
  extends Omit<FetchOptions, 'onBadProvider' | 'onProviderError' | 'limits'> {
  /** Fetch from these peers instead of asking the DHT. */
  providers?: readonly PeerId[]
  /** Most providers used at once (default 4). */
  maxProviders?: number
  /** Deadline of the DHT lookup, ms (default 10 s). */
  findTimeoutMs?: number
  /** Transfer limits; `messageTimeoutMs` is also the dial deadline. */
  limits?: Partial<TransferLimits>
  /** A provider sent a wrong chunk or manifest or broke the protocol: penalise it. */
  onBadProvider?: (event: BadPeerEvent) => void
  /** A provider timed out or failed; its work went to the others. */
  onProviderError?: (event: PeerErrorEvent) => void
  /**
   * Swarm fetch (CHUNK-21): fetch the chunks in an order of this fetch's own, and whenever some
   * chunks have no provider left, look the file's providers up again and ask every provider
   * again (XFER-21b): peers that started fetching the same file since announce it and serve the
   * chunks they hold, so that fetchers of one file take most of it from each other.
   */
  swarm?: boolean
}

/** Outcome of {@link fetchFileFromNetwork}. */
export interface NetworkFetchResult extends FetchResult {
  /** The manifest the file was fetched by (checked against the file key). */
  readonly manifest: Manifest
  /** Providers used, base58 ids. */
  readonly providers: readonly string[]
}

/** Default number of providers fetched from at once. */
export const DEFAULT_MAX_PROVIDERS = 4

/**
 * Providers a swarm fetch's repeated lookups ask for (CHUNK-21): 16, twice CHUNK-11's default,
 * so that a lookup returning the providers already known still reaches new ones.
 */
export const SWARM_LOOKUP_PROVIDERS = 16

/**
 * Batch size of a swarm fetch (CHUNK-21): 256 KiB, the smallest default batch (XFER-18). At the
 * start the file's origin is the only provider; small requests keep what every fetcher asks of
 * it at once small (3 requests each), so that fetchers soon hold different chunks to trade.
 */
export const SWARM_BATCH_BYTES = 256 << 10

/**
 * Fetches a file into `store` from the network (CHUNK-13): providers come from the DHT (or
 * `options.providers`); with only a file key, the manifest is asked from the providers in turn
 * (one naming another file is reported bad). The CAFS multi-source fetcher then pulls the
 * missing chunks from all providers at once over the chunk protocol, re-hashing every chunk,
 * dropping and reporting providers that send wrong ones, and finally checks the file key. When
 * the chunks do not assemble to the file key, the manifest's provider is reported and the next
 * provider's manifest is tried.
 */
export async function fetchFileFromNetwork(
  libp2p: FetchLibp2p,
  target: Manifest | Key,
  store: ChunkStore,
  options: NetworkFetchOptions = {}
): Promise<NetworkFetchResult> {
  const limits = resolveLimits(options.limits)
  const fileKey = isKey(target) ? target : target.fileKey
  const max = options.maxProviders ?? DEFAULT_MAX_PROVIDERS
  let peers: PeerId[] = []
  if (options.providers !== undefined)
    peers = options.providers.filter((p) => !p.equals(libp2p.peerId)).slice(0, max)
  else
    for await (const p of findFileProviders(libp2p, fileKey, {
      maxProviders: max,
      timeoutMs: options.findTimeoutMs,
      signal: options.signal
    }))
      peers.push(p)
  if (peers.length === 0) throw chunkError(ChunkCode.NO_PROVIDERS, 'no provider found for the file')

  const bad = new Set<string>()
  const reportBad = (peer: PeerId, code: string): void => {
    if (bad.has(peer.toString())) return
    bad.add(peer.toString())
    options.onBadProvider?.({ peer, code })
  }
  const reportError = (peer: PeerId, code: string): void => options.onProviderError?.({ peer, code })

  // Manifest candidates: the given one, or one per provider asked in turn.
  const asked = new Set<string>()
  const nextManifest = async (): Promise<{ manifest: Manifest; from?: PeerId } | undefined> => {
    if (!isKey(target)) {
      // A given manifest is the only candidate: tried once.
      if (asked.has('')) return undefined
      asked.add('')
      return { manifest: target }
    }
    for (const p of peers) {
      const id = p.toString()
      if (asked.has(id) || bad.has(id)) continue
      asked.add(id)
      try {
        const m = await queryManifest(libp2p, p, fileKey, limits, { signal: options.signal })
        if (m !== undefined) return { manifest: m, from: p }
      } catch (err) {
        options.signal?.throwIfAborted()
        const code = isBitwrkError(err) ? err.code : XferCode.CLOSED
        if (MISBEHAVIOUR_CODES.has(code)) reportBad(p, code)
        else reportError(p, code)
      }
    }
    return undefined
  }

  for (;;) {
    const candidate = await nextManifest()
    if (candidate === undefined) throw chunkError(ChunkCode.MANIFEST_NOT_FOUND, 'no provider has a manifest')
    const live = peers.filter((p) => !bad.has(p.toString()))
    const byId = new Map(live.map((p) => [p.toString(), p]))
    const sources = live.map((p) => new PeerChunkSource(libp2p, p, limits))
    const providers: Provider[] = sources.map((s) => ({ id: s.peer.toString(), source: s }))
    // CHUNK-21: a swarm fetch looks for providers again while it runs
    const moreProviders = async (o: { signal?: AbortSignal }): Promise<Provider[]> => {
      const found: Provider[] = []
      for await (const p of findFileProviders(libp2p, fileKey, {
        maxProviders: Math.max(max, SWARM_LOOKUP_PROVIDERS),
        timeoutMs: options.findTimeoutMs,
        signal: o.signal
      })) {
        const id = p.toString()
        if (bad.has(id) || byId.has(id)) continue
        byId.set(id, p)
        const source = new PeerChunkSource(libp2p, p, limits)
        sources.push(source)
        found.push({ id, source })
      }
      return found
    }
    try {
      const result = await fetchFromProviders(candidate.manifest, providers, store, {
        ...options,
        ...(options.swarm === true
          ? { moreProviders, random: Math.random, batchBytes: options.batchBytes ?? SWARM_BATCH_BYTES }
          : {}),
        limits: options.limits,
        onBadProvider: (e) => {
          const p = byId.get(e.provider)
          if (p !== undefined) reportBad(p, e.code)
        },
        onProviderError: (e) => {
          const p = byId.get(e.provider)
          if (p !== undefined) reportError(p, e.code)
        }
      })
      return { ...result, manifest: candidate.manifest, providers: [...byId.keys()] }
    } catch (err) {
      // Chunks that hash right but do not make the file: the manifest lied, not the chunks.
      if (isBitwrkError(err, XferCode.FILE_KEY_MISMATCH) && candidate.from !== undefined) {
        reportBad(candidate.from, XferCode.FILE_KEY_MISMATCH)
        continue
      }
      throw err
    } finally {
      await Promise.all(sources.map((s) => s.close()))
    }
  }
}
