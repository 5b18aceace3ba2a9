import { setMaxListeners } from 'node:events'
import type { Connection, Libp2p, Stream } from '@libp2p/interface'
import { isBitwrkError } from '../../../protocol/errors.js'
import type { HashPool } from '../../hash-pool.js'
import { keysEqual } from '../../keys.js'
import {
  type ByteStream,
  encodeError,
  encodeMissing,
  encodeOffer,
  FrameReader,
  InvalidRequestBudget,
  MAX_VARINT_BYTES,
  MISBEHAVIOUR_CODES,
  MsgType,
  maxRequestBytes,
  resolveLimits,
  serveChunks,
  type TransferLimits,
  writeFrame,
  XferCode
} from '../../transfer/index.js'
import type { AbortOptions, ChunkStore, Key, Manifest } from '../../types.js'
import { type ChunkAccessPolicy, type ForbiddenEvent, readableView } from './access.js'
import { InboundStreamCaps, type StreamGuardReason, type StreamRefusedHandler } from './caps.js'
import { ChunkCode, chunkError, xferError } from './errors.js'
import { peekType } from './peek.js'
import { libp2pByteStream } from './stream.js'
import { CHUNK_PROTOCOL, decodeHave, decodeManifestGet, encodeHaveReply, QueryType } from './wire.js'

/** Looks up the manifest of a file the node holds, by file key. */
export type ManifestLookup = (fileKey: Key, options?: AbortOptions) => Promise<Manifest | undefined>

/** A peer sent an invalid request (CHUNK-9): the node may penalise it. */
export interface InvalidRequestEvent {
  /** Base58 peer id. */
  readonly peer: string
  /** The transfer code of the violation (`CAFS_XFER_BAD_MESSAGE`, `…_UNKNOWN_MESSAGE` …). */
  readonly code: string
  /** Invalid requests counted for this peer so far. */
  readonly count: number
  /** True once the peer is over budget: its streams are refused from now on. */
  readonly refused: boolean
}

/** Options of the serving side (defaults: CHUNK-7 … CHUNK-9). */
export interface ChunkServerOptions {
  /** The store chunks are served from. */
  store: ChunkStore
  /** Answers MANIFEST_GET; without it every manifest request is answered MISSING. */
  manifests?: ManifestLookup
  /**
   * Who may read which chunk and manifest (CHUNK-15); a refused key is answered as not held.
   * Without it every peer may read everything the store holds.
   */
  access?: ChunkAccessPolicy
  /** Called for every key the access policy refused (`CHUNK_FORBIDDEN`, for metrics). */
  onForbidden?: (event: ForbiddenEvent) => void
  /** Transfer limits (message sizes, keys per request, per-message timeout). */
  limits?: Partial<TransferLimits>
  /** How long a stream may wait for its next request, ms (default 10 s). */
  idleTimeoutMs?: number
  /** Inbound streams of this protocol per connection (default 8). */
  maxInboundStreams?: number
  /** Outbound streams of this protocol per connection (default 8). */
  maxOutboundStreams?: number
  /** Streams served at once over all peers (default 64). */
  maxActiveStreams?: number
  /** Streams served at once for one peer, over all its connections (default 8, CHUNK-15). */
  maxPeerStreams?: number
  /** Invalid requests a peer may make before its streams are refused (default 3). */
  invalidRequestBudget?: number
  /** Called for every invalid request. */
  onInvalidRequest?: (event: InvalidRequestEvent) => void
  /** Called for every stream refused at a cap or the budget, or cut for an overrun (metrics, bans). */
  onStreamRefused?: StreamRefusedHandler
  /** Called when a GET stream ends normally, with the chunk bytes served on it (for metrics). */
  onServed?: (event: { peer: string; chunks: number; bytes: number }) => void
  /** Called after a successful `ChunkExchange.fetchFile`, with the verified chunk bytes received. */
  onFetched?: (event: { chunks: number; bytes: number }) => void
  /**
   * Called, besides the per-call `onBadProvider`, whenever a `ChunkExchange.fetchFile` proves a
   * provider wrong (a chunk or manifest that does not hash right, a protocol violation): the
   * node's reputation counts it (invariant 8).
   */
  onBadProvider?: (event: { peer: string; code: string }) => void
  /**
   * Re-hash each chunk before serving it (default true, invariant 8); off only for a store
   * that re-hashes on `get` itself (see the CAFS pull server's `verifyServed`).
   */
  verifyServed?: boolean
  /**
   * Hash on these worker threads (serving and, through {@link ChunkExchange}, fetching)
   * instead of the main thread; the caller owns and closes the pool.
   */
  hashPool?: HashPool
}

/** Defaults of {@link ChunkServerOptions} (CHUNK-7 … CHUNK-9). */
export const CHUNK_SERVER_DEFAULTS = {
  idleTimeoutMs: 10_000,
  // 8 per connection: a fetcher uses one or two streams per provider; the rest is headroom.
  maxInboundStreams: 8,
  maxOutboundStreams: 8,
  maxActiveStreams: 64,
  // as the per-connection cap: a peer with several connections gets one budget (CHUNK-15)
  maxPeerStreams: 8,
  // Holepunch's habit: a few strikes, then the peer is dropped.
  invalidRequestBudget: 3
} as const

/** The part of libp2p the server uses. */
export type ServerLibp2p = Pick<Libp2p, 'handle' | 'unhandle'>

/** Longest wait for an ERROR frame on the failure path. */
const ERROR_WRITE_TIMEOUT_MS = 1000

/**
 * Serves `/bitwrk/chunk/1.0.0`: GET streams go to the CAFS pull server ({@link serveChunks},
 * which re-hashes every chunk before sending it), HAVE / MANIFEST_GET streams to the query
 * loop. Stream caps at `handle()`, a global cap on active streams, and a per-peer budget of
 * invalid requests after which the peer's streams are refused.
 */
export class ChunkServer {
  private readonly limits: TransferLimits
  private readonly budget: InvalidRequestBudget
  private readonly active = new Set<ByteStream>()
  private readonly caps: InboundStreamCaps
  private controller = new AbortController()
  private readonly idleTimeoutMs: number
  /** Largest request body read (XFER-23): a HAVE or GET of `maxKeysPerRequest` keys. */
  private readonly maxRequest: number
  private started = false

  constructor(
    private readonly libp2p: ServerLibp2p,
    private readonly opts: ChunkServerOptions
  ) {
    this.limits = resolveLimits(opts.limits)
    this.budget = new InvalidRequestBudget(
      opts.invalidRequestBudget ?? CHUNK_SERVER_DEFAULTS.invalidRequestBudget
    )
    this.idleTimeoutMs = opts.idleTimeoutMs ?? CHUNK_SERVER_DEFAULTS.idleTimeoutMs
    this.caps = new InboundStreamCaps({
      perPeer: opts.maxPeerStreams ?? CHUNK_SERVER_DEFAULTS.maxPeerStreams,
      total: opts.maxActiveStreams ?? CHUNK_SERVER_DEFAULTS.maxActiveStreams
    })
    this.maxRequest = maxRequestBytes(this.limits)
  }

  /** Registers the protocol handler. */
  async start(): Promise<void> {
    if (this.started) return
    this.started = true
    this.controller = new AbortController()
    // every active stream waits on the stop signal at a few places at once: not a leak
    const streams = this.opts.maxActiveStreams ?? CHUNK_SERVER_DEFAULTS.maxActiveStreams
    setMaxListeners(4 * streams + 10, this.controller.signal)
    await this.libp2p.handle(CHUNK_PROTOCOL, (stream, connection) => this.onStream(stream, connection), {
      maxInboundStreams: this.opts.maxInboundStreams ?? CHUNK_SERVER_DEFAULTS.maxInboundStreams,
      maxOutboundStreams: this.opts.maxOutboundStreams ?? CHUNK_SERVER_DEFAULTS.maxOutboundStreams
    })
  }

  /** Unregisters the handler and tears down every active stream. Idempotent. */
  async stop(): Promise<void> {
    if (!this.started) return
    this.started = false
    this.controller.abort(chunkError(ChunkCode.STOPPED, 'chunk server stopped'))
    for (const s of this.active) s.abort()
    this.active.clear()
    await this.libp2p.unhandle(CHUNK_PROTOCOL)
  }

  /** True when `peer` used up its invalid-request budget. */
  isRefused(peer: string): boolean {
    return this.budget.count(peer) > this.budget.maxInvalid
  }

  /** Streams being served right now (of `peer` only, when given). */
  activeStreams(peer?: string): number {
    return this.caps.count(peer)
  }

  /** CHUNK-14: may `peer` read `key`? A refusal is reported (`CHUNK_FORBIDDEN`) and answered as not held. */
  private readable(peer: string, key: Key): boolean {
    const access = this.opts.access
    if (access === undefined || access(peer, key)) return true
    this.opts.onForbidden?.({ peer, code: ChunkCode.FORBIDDEN })
    return false
  }

  private async onStream(stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString()
    const refuse = (reason: StreamGuardReason, err: Error): void => {
      this.opts.onStreamRefused?.(reason, peer)
      stream.abort(err)
    }
    if (this.isRefused(peer)) return refuse('budget', chunkError(ChunkCode.PEER_REFUSED, 'peer over budget'))
    const slot = this.caps.take(peer)
    if (slot === 'protocol')
      return refuse('protocol_cap', chunkError(ChunkCode.BUSY, 'too many active streams'))
    if (slot === 'peer')
      return refuse('peer_cap', chunkError(ChunkCode.STREAM_LIMIT, 'too many streams of this peer'))
    // XFER-23: a fetcher sends one request, then waits for its answer (CHUNK-3)
    const bs = libp2pByteStream(stream, {
      maxUnreadBytes: MAX_VARINT_BYTES + this.maxRequest,
      onOverrun: () => this.opts.onStreamRefused?.('overrun', peer)
    })
    this.active.add(bs)
    const signal = this.controller.signal
    // CHUNK-14: this peer's requests see only what the policy lets it read.
    const readable = (key: Key): boolean => this.readable(peer, key)
    const store = this.opts.access ? readableView(this.opts.store, readable) : this.opts.store
    try {
      const { type, stream: s } = await peekType(bs, this.idleTimeoutMs, signal)
      if (type === undefined) return await s.close()
      if (type === QueryType.HAVE || type === QueryType.MANIFEST_GET)
        await this.serveQueries(s, store, readable, signal)
      else {
        const served = await serveChunks(s, store, {
          limits: this.limits,
          idleTimeoutMs: this.idleTimeoutMs,
          maxRequestLength: this.maxRequest,
          verifyServed: this.opts.verifyServed ?? true,
          hashPool: this.opts.hashPool,
          signal
        })
        this.opts.onServed?.({ peer, chunks: served.chunksServed, bytes: served.chunkBytesServed })
      }
    } catch (err) {
      bs.abort()
      const code = isBitwrkError(err) ? err.code : XferCode.CLOSED
      if (MISBEHAVIOUR_CODES.has(code)) {
        const ok = this.budget.charge(peer)
        this.opts.onInvalidRequest?.({ peer, code, count: this.budget.count(peer), refused: !ok })
      }
    } finally {
      this.active.delete(bs)
      slot()
    }
  }

  /** HAVE and MANIFEST_GET requests until the fetcher half-closes (CHUNK-5, CHUNK-6). */
  private async serveQueries(
    stream: ByteStream,
    store: ChunkStore,
    readable: (key: Key) => boolean,
    signal: AbortSignal
  ): Promise<void> {
    const reader = new FrameReader(stream.source)
    const write = (body: Uint8Array): Promise<number> =>
      writeFrame(stream, body, { signal, timeoutMs: this.limits.messageTimeoutMs })
    try {
      for (;;) {
        const body = await reader.read({ maxLength: this.maxRequest, timeoutMs: this.idleTimeoutMs, signal })
        if (body === undefined) break
        const type = body[0]
        if (type === QueryType.HAVE) {
          const keys = decodeHave(body, this.limits.maxKeysPerRequest)
          const held = await Promise.all(keys.map((k) => store.has(k, { signal })))
          await write(encodeHaveReply(held))
        } else if (type === QueryType.MANIFEST_GET) {
          const fileKey = decodeManifestGet(body)
          const m = readable(fileKey) ? await this.opts.manifests?.(fileKey, { signal }) : undefined
          // A lookup that returns another file's manifest is our bug: never send it.
          await write(m !== undefined && keysEqual(m.fileKey, fileKey) ? encodeOffer(m) : encodeMissing([0]))
        } else if (type !== undefined && Object.values(MsgType).includes(type as never))
          throw xferError(XferCode.UNEXPECTED_MESSAGE, 'only HAVE and MANIFEST_GET on a query stream', {
            type
          })
        else throw xferError(XferCode.UNKNOWN_MESSAGE, 'unknown message type', { type })
      }
      await stream.close({ signal })
    } catch (err) {
      if (isBitwrkError(err) && MISBEHAVIOUR_CODES.has(err.code))
        await writeFrame(stream, encodeError(err.code), { timeoutMs: ERROR_WRITE_TIMEOUT_MS }).catch(() => {})
      throw err
    }
  }
}
