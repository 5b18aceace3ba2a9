/**
 * Yamux with bounded buffering and a stream-open budget (GOSSIP-13; DESIGN.md invariant 10;
 * `docs/drills.md`, memory-flood). @libp2p/yamux 8 collects a data frame's whole declared length
 * (up to 4 GiB) before it checks the frame against the stream's receive window, so one peer
 * could make a node buffer any amount on one connection, on any protocol, before a handler
 * runs (measured: 735 MiB sent in 3 s grew the node by 1.5 GB). And every stream a peer opens
 * costs a stream set-up (protocol negotiation, the peer store, a handler) plus up to one
 * initial window (256 KiB) of bytes to decrypt, even when the handler refuses it at once. A
 * guard reads the frame headers ahead of the muxer and aborts the connection at a data frame
 * longer than the largest window the node ever grants, or when the peer opens streams faster
 * than any honest peer does; stream windows are capped at {@link MAX_STREAM_WINDOW_BYTES}.
 */
import type { MessageStream, StreamMuxerFactory } from '@libp2p/interface'
import { yamux } from '@libp2p/yamux'
import { StreamState } from '@libp2p/yamux/stream'
import type { Uint8ArrayList } from 'uint8arraylist'
import { MAX_STREAM_WINDOW_BYTES } from '../../cafs/adapters/libp2p/index.js'
import { BitwrkError } from '../../protocol/errors.js'
import { delayInbound } from './link-emulation.js'

/** Length of a Yamux frame header (the Yamux spec: version, type, flags, stream id, length). */
const HEADER_BYTES = 12
/** Type byte of a data frame: the only type whose length counts body bytes (the Yamux spec). */
const TYPE_DATA = 0
/** Type byte of a window update (the Yamux spec); with SYN it opens a stream, as a data frame may. */
const TYPE_WINDOW_UPDATE = 1
/** The SYN flag: the sender opens a new stream with this frame (the Yamux spec). */
const FLAG_SYN = 1
/** Offset of the big-endian 16-bit flags in the header. */
const FLAGS_OFFSET = 2
/** Offset of the big-endian 32-bit length in the header. */
const LENGTH_OFFSET = 8

/** Codes of the muxer guard (`HOST_*`, GOSSIP-13): the connection was aborted for them. */
export const MuxGuardCode = {
  /** A data frame declared more bytes than any receive window the node grants. */
  FRAME_TOO_LARGE: 'HOST_MUX_FRAME_TOO_LARGE',
  /** The peer opened streams faster than the stream-open budget allows. */
  STREAM_FLOOD: 'HOST_MUX_STREAM_FLOOD'
} as const

/** Streams a peer may open on one connection (GOSSIP-13): a token bucket. */
export interface StreamOpenBudget {
  /** Streams opened at once (bucket size). */
  readonly burst: number
  /** Streams per second after the burst (refill). */
  readonly perSecond: number
}

/**
 * The default budget: an honest peer opens a few streams per connection at start (identify,
 * GossipSub, Kad-DHT) and then about one per request (a sync session, a trade, a chunk query, up
 * to 3 streams per fetch from a provider, CHUNK-10). On loopback a peer that fetches a small file
 * and syncs a book in a loop opens well over a hundred per second (the `slow-peer` drill's
 * honest peer; a budget of 32 per second cut and banned it), so the budget only stops a SYN
 * flood: 512 at once, 256 per second. What a stream may cost is bounded elsewhere (the
 * per-peer and per-protocol caps, XFER-23, the memory watch).
 */
export const DEFAULT_STREAM_OPEN_BUDGET: StreamOpenBudget = { burst: 512, perSecond: 256 }

/**
 * A token bucket: `burst` at once, refilled at `perSecond`. Pure apart from the injected clock
 * (ms); the stream-open budget of a connection and the node's inbound connection budget.
 */
export class TokenBucket {
  private tokens: number
  private refilled: number

  constructor(
    private readonly budget: StreamOpenBudget,
    private readonly now: () => number = () => performance.now()
  ) {
    this.tokens = budget.burst
    this.refilled = now()
  }

  /** Takes one token; false (nothing taken) when the bucket is empty. */
  take(): boolean {
    const t = this.now()
    this.tokens = Math.min(
      this.budget.burst,
      this.tokens + ((t - this.refilled) / 1000) * this.budget.perSecond
    )
    this.refilled = t
    if (this.tokens < 1) return false
    this.tokens--
    return true
  }
}

/**
 * The node's inbound connection budget (GOSSIP-14), over all remote hosts: a token bucket checked
 * before the Noise handshake. Identities are free, handshakes are not: each inbound connection
 * costs a secp256k1 signature and verification (pure JS in libp2p's crypto, about half a
 * megabyte of garbage each) plus identify, GossipSub and Kad-DHT set-up, so a peer that
 * reconnects under ever new identities makes the node's heap grow with its rate
 * (`docs/drills.md`, memory-flood). 64 at once covers a 50-node testnet dialling one node at
 * start; 16 per second is far above the rate at which honest peers arrive.
 */
export const DEFAULT_INBOUND_CONNECTION_BUDGET: StreamOpenBudget = { burst: 64, perSecond: 16 }

/** Options of {@link boundedYamux}. */
export interface BoundedYamuxOptions {
  /** Largest stream receive window, bytes (default {@link MAX_STREAM_WINDOW_BYTES}). */
  readonly maxWindowBytes?: number
  /** Streams a peer may open per connection (default {@link DEFAULT_STREAM_OPEN_BUDGET}). */
  readonly streamOpens?: StreamOpenBudget
  /** Clock of the stream-open budget, ms (default `performance.now`). */
  readonly now?: () => number
  /**
   * Harnesses only (issue 14): an emulated one-way delay, ms, drawn per batch of incoming bytes
   * and added between the connection and the muxer ({@link delayInbound}).
   */
  readonly inboundDelayMs?: () => number
}

/**
 * The node's stream muxer: Yamux with receive windows of at most `maxWindowBytes`, a frame
 * guard on every connection ({@link guardFrames}) and window updates in batches
 * ({@link batchWindowUpdates}).
 */
export function boundedYamux(options: BoundedYamuxOptions = {}): () => StreamMuxerFactory {
  const maxWindowBytes = options.maxWindowBytes ?? MAX_STREAM_WINDOW_BYTES
  const create = yamux({ streamOptions: { maxStreamWindowSize: maxWindowBytes } })
  return () => {
    const factory = create()
    const inner = factory.createStreamMuxer.bind(factory)
    // the factory itself is kept (its protocol and service capabilities); only muxer creation is wrapped
    factory.createStreamMuxer = (maConn: MessageStream) => {
      // registered before the muxer's own listener, so it sees every message first
      guardFrames(maConn, {
        maxDataBytes: maxWindowBytes,
        streamOpens: options.streamOpens ?? DEFAULT_STREAM_OPEN_BUDGET,
        now: options.now ?? (() => performance.now())
      })
      const delay = options.inboundDelayMs
      return batchWindowUpdates(inner(delay === undefined ? maConn : delayInbound(maConn, delay)))
    }
    return factory
  }
}

/** The YamuxMuxer member {@link batchWindowUpdates} wraps (@libp2p/yamux 8, not public). */
interface YamuxInternals {
  _newStream?: (streamId: number, state: number, direction: string) => YamuxStreamInternals
}
/** The YamuxStream members {@link batchWindowUpdates} reads and wraps (@libp2p/yamux 8). */
interface YamuxStreamInternals {
  state: number
  recvWindow: number
  recvWindowCapacity: number
  sendWindowUpdate?: () => void
}

/** YamuxStream states (`@libp2p/yamux/stream`) in which a window update carries no SYN or ACK flag. */
const FLAGLESS_STATES: ReadonlySet<number> = new Set([
  StreamState.SYNSent,
  StreamState.Established,
  StreamState.Finished
])

/**
 * Makes the streams of `muxer` grant receive window in batches: a window update only once
 * half the window has been used, as go-yamux and rust-yamux do. @libp2p/yamux 8 answers every
 * data frame with a window update, so each small GossipSub RPC cost two Noise frames, two
 * encryptions and two writes instead of one (issue 14). The sender never stalls: it still has
 * at least half a window when we hold an update back, and a stream that has used half its
 * window (or is being opened or acknowledged) gets its update at once. Nothing changes on the
 * wire but the number of window updates. A muxer without these internals is left as it is.
 */
export function batchWindowUpdates<M>(muxer: M): M {
  const internals = muxer as unknown as YamuxInternals
  const newStream = internals._newStream
  if (typeof newStream !== 'function') return muxer
  internals._newStream = (streamId, state, direction) => {
    const stream = newStream.call(muxer, streamId, state, direction)
    const update = stream.sendWindowUpdate
    if (typeof update !== 'function') return stream
    stream.sendWindowUpdate = () => {
      if (
        FLAGLESS_STATES.has(stream.state) &&
        stream.recvWindow - stream.recvWindowCapacity < stream.recvWindow / 2
      )
        return
      update.call(stream)
    }
    return stream
  }
  return muxer
}

/** Limits of {@link guardFrames}. */
export interface FrameGuardLimits {
  /** Largest data frame body: the largest receive window the node grants. */
  readonly maxDataBytes: number
  /** Streams the peer may open. */
  readonly streamOpens: StreamOpenBudget
  /** Clock, ms. */
  readonly now: () => number
}

/**
 * Follows the Yamux frame boundaries of `conn`'s incoming bytes (headers are collected, bodies
 * only counted: nothing is buffered beyond one header) and aborts the connection, before the
 * muxer sees the bytes, when a data frame declares more than `maxDataBytes`
 * (`HOST_MUX_FRAME_TOO_LARGE`; an honest sender never sends more than the stream's window) or a
 * SYN exceeds the stream-open budget (`HOST_MUX_STREAM_FLOOD`).
 */
export function guardFrames(conn: MessageStream, limits: FrameGuardLimits): void {
  const header = new Uint8Array(HEADER_BYTES)
  const view = new DataView(header.buffer)
  let headerBytes = 0
  let bodyLeft = 0
  let failure: BitwrkError | undefined
  const opens = new TokenBucket(limits.streamOpens, limits.now)
  const open = (): boolean => opens.take()
  /** Advances over `chunk`; the failure when a frame breaks a limit. */
  const scan = (chunk: Uint8Array): BitwrkError | undefined => {
    let i = 0
    while (i < chunk.length) {
      if (bodyLeft > 0) {
        const n = Math.min(bodyLeft, chunk.length - i)
        bodyLeft -= n
        i += n
        continue
      }
      const n = Math.min(HEADER_BYTES - headerBytes, chunk.length - i)
      header.set(chunk.subarray(i, i + n), headerBytes)
      headerBytes += n
      i += n
      if (headerBytes < HEADER_BYTES) return undefined
      headerBytes = 0
      const type = header[1]
      const syn = (view.getUint16(FLAGS_OFFSET) & FLAG_SYN) !== 0
      if (syn && (type === TYPE_DATA || type === TYPE_WINDOW_UPDATE) && !open())
        return new BitwrkError(MuxGuardCode.STREAM_FLOOD, 'streams opened faster than the budget', {
          ...limits.streamOpens
        })
      if (type !== TYPE_DATA) continue
      const length = view.getUint32(LENGTH_OFFSET)
      if (length > limits.maxDataBytes)
        return new BitwrkError(
          MuxGuardCode.FRAME_TOO_LARGE,
          'yamux data frame larger than any receive window',
          {
            maxDataBytes: limits.maxDataBytes
          }
        )
      bodyLeft = length
    }
    return undefined
  }
  conn.addEventListener('message', (evt) => {
    if (failure === undefined) {
      const data: Uint8Array | Uint8ArrayList = evt.data
      if (data instanceof Uint8Array) failure = scan(data)
      else for (const c of data) if (failure === undefined) failure = scan(c)
      if (failure === undefined) return
      conn.abort(failure)
    }
    // the muxer never sees these bytes: nothing of the frame is buffered, no stream is opened
    evt.stopImmediatePropagation()
  })
}
