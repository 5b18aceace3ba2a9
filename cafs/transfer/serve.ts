import { isBitwrkError } from '../../protocol/errors.js'
import { evictOldest } from '../../protocol/util/index.js'
import type { HashPool } from '../hash-pool.js'
import type { AbortOptions, ChunkStore, Key } from '../types.js'
import { VerifiedChunk } from '../verified.js'
import { XferCode, xferError } from './errors.js'
import { RECORD_OVERHEAD, resolveLimits, type TransferLimits } from './limits.js'
import { type ChunkRecord, encodeChunksFrame, encodeDone, encodeMissing } from './messages.js'
import { readAhead } from './readahead.js'
import { Session } from './session.js'
import type { ByteStream } from './stream.js'

/** Options of {@link serveChunks}. */
export interface ServeOptions extends AbortOptions {
  /** Overrides of the default limits and the per-message timeout. */
  limits?: Partial<TransferLimits>
  /** How long an idle stream may wait for its next GET (default: the per-message timeout). */
  idleTimeoutMs?: number
  /**
   * Largest GET frame body read (default `maxMessageLength`); a transport that holds requests in
   * memory per stream passes `maxRequestBytes(limits)` (XFER-23).
   */
  maxRequestLength?: number
  /** Re-hash each chunk before serving it (default true); see `SendOptions.verifyServed`. */
  verifyServed?: boolean
  /** Re-hash on these worker threads instead of the main thread (the caller closes the pool). */
  hashPool?: HashPool
}

/** Chunks read (and re-hashed) ahead of the one being written: more when a pool hashes them. */
const READ_AHEAD = 16
const READ_AHEAD_POOL = 64

/** Outcome of {@link serveChunks} once the fetcher closed the stream. */
export interface ServeResult {
  readonly requests: number
  readonly chunksServed: number
  readonly chunkBytesServed: number
  readonly chunksMissing: number
}

/**
 * Provider side of the pull protocol (XFER-15 … XFER-17): answers GET requests until the
 * fetcher half-closes. Each answer lists every requested position once, in order: CHUNKS
 * records for chunks held (re-hashed before serving), MISSING for the rest, then DONE.
 *
 * An invalid request (bad frame, unknown or unexpected message, too many keys) gets an ERROR,
 * the stream is torn down and the error is thrown, so the node can charge the peer's
 * invalid-request budget ({@link InvalidRequestBudget}).
 */
export async function serveChunks(
  stream: ByteStream,
  store: ChunkStore,
  options: ServeOptions = {}
): Promise<ServeResult> {
  const limits = resolveLimits(options.limits)
  const session = new Session(stream, limits, options.signal)
  let requests = 0
  let chunksServed = 0
  let chunkBytesServed = 0
  let chunksMissing = 0
  try {
    for (;;) {
      const msg = await session.recv({
        timeoutMs: options.idleTimeoutMs,
        maxLength: options.maxRequestLength
      })
      if (msg === undefined) break
      if (msg.type !== 'get') throw xferError(XferCode.UNEXPECTED_MESSAGE, `expected GET, got ${msg.type}`)
      requests++
      let records: ChunkRecord[] = []
      let recordBytes = 1
      let missing: number[] = []
      const flushRecords = async (): Promise<void> => {
        if (records.length === 0) return
        await session.sendFramed(encodeChunksFrame(records))
        records = []
        recordBytes = 1
      }
      const flushMissing = async (): Promise<void> => {
        if (missing.length === 0) return
        await session.send(encodeMissing(missing))
        missing = []
      }
      const positions = msg.keys.map((_k, i) => i)
      const read = (i: number): Promise<Uint8Array | undefined> =>
        servable(store, msg.keys[i]!, options.verifyServed ?? true, options)
      let i = 0
      const depth = options.hashPool ? READ_AHEAD_POOL : READ_AHEAD
      // XFER-23: a fetcher that does not read holds at most one message's worth read ahead
      const ahead = {
        sizeOf: (b: Uint8Array | undefined) => b?.length ?? 0,
        maxBytes: limits.targetMessageBytes
      }
      for await (const bytes of readAhead(positions, read, depth, ahead)) {
        if (bytes === undefined) {
          // Positions stay ascending across messages: pending records go out first.
          await flushRecords()
          missing.push(i)
          chunksMissing++
        } else {
          await flushMissing()
          const size = RECORD_OVERHEAD + bytes.length
          if (recordBytes + size > limits.maxMessageLength) await flushRecords()
          records.push({ index: i, bytes })
          recordBytes += size
          chunksServed++
          chunkBytesServed += bytes.length
          if (recordBytes >= limits.targetMessageBytes) await flushRecords()
        }
        i++
      }
      await flushRecords()
      await flushMissing()
      await session.send(encodeDone())
    }
    await stream.close({ signal: options.signal })
    return { requests, chunksServed, chunkBytesServed, chunksMissing }
  } catch (err) {
    throw await session.fail(err)
  }
}

/** The chunk if held and intact (re-hashed: a corrupt copy is never served), else undefined. */
async function servable(
  store: ChunkStore,
  key: Key,
  verify: boolean,
  options: AbortOptions & { hashPool?: HashPool }
): Promise<Uint8Array | undefined> {
  let bytes: Uint8Array | undefined
  try {
    // Read-only use (hash, then copy into the frame): no defensive copy needed.
    bytes = await (store.getShared ? store.getShared(key, options) : store.get(key, options))
  } catch (err) {
    if (isBitwrkError(err)) throw err
    return undefined
  }
  if (bytes === undefined) return undefined
  if (verify && (await VerifiedChunk.checkOn(options.hashPool, key, bytes)) === undefined) return undefined
  return bytes
}

/**
 * How long an invalid request counts against its peer: 10 minutes (CHUNK-9, SYNC-10, TRADE-16).
 * A peer may so break a protocol at most `maxInvalid + 1` times in 10 minutes (each costing one
 * bounded read), while an honest peer's rare slips (a HELLO racing a retirement,
 * `TRADE_UNKNOWN_TX`) are forgotten instead of adding up over a long life (issue 12.7).
 */
export const INVALID_REQUEST_WINDOW_MS = 10 * 60_000

/** Options of {@link InvalidRequestBudget}. */
export interface InvalidRequestBudgetOptions {
  /** How long a charge counts, ms (default {@link INVALID_REQUEST_WINDOW_MS}). */
  readonly windowMs?: number
  /** The clock, ms (default `Date.now`). */
  readonly now?: () => number
}

/**
 * A per-peer budget of invalid requests (Holepunch habit) over a sliding time window:
 * `charge(peer)` counts one invalid request and returns false once the peer has more than
 * `maxInvalid` within the window, so the node drops it; charges older than the window no longer
 * count. Bounded: at most `maxPeers` peers are tracked (the least recently charged forgotten
 * first), each with at most `maxInvalid + 1` times.
 */
export class InvalidRequestBudget {
  /** Times of the counted charges per peer, oldest first. */
  private readonly charges = new Map<string, number[]>()
  private readonly windowMs: number
  private readonly now: () => number

  constructor(
    readonly maxInvalid = 3,
    readonly maxPeers = 1024,
    options: InvalidRequestBudgetOptions = {}
  ) {
    this.windowMs = options.windowMs ?? INVALID_REQUEST_WINDOW_MS
    this.now = options.now ?? Date.now
  }

  /** The charges of `peer` still inside the window at `nowMs` (the list is trimmed in place). */
  private live(peer: string, nowMs: number): number[] {
    const times = this.charges.get(peer) ?? []
    while (times.length > 0 && (times[0] as number) <= nowMs - this.windowMs) times.shift()
    return times
  }

  /** Counts an invalid request by `peer`; false when the peer is over budget. */
  charge(peer: string): boolean {
    const nowMs = this.now()
    const times = this.live(peer, nowMs)
    times.push(nowMs)
    // more than maxInvalid + 1 charges decide nothing more: keep the newest
    if (times.length > this.maxInvalid + 1) times.shift()
    this.charges.delete(peer)
    this.charges.set(peer, times)
    evictOldest(this.charges, this.maxPeers)
    return times.length <= this.maxInvalid
  }

  /** Invalid requests of `peer` inside the window (at most `maxInvalid + 1`). */
  count(peer: string): number {
    const times = this.live(peer, this.now())
    if (times.length === 0) this.charges.delete(peer)
    return times.length
  }
}
