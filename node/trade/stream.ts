/**
 * A libp2p stream as the {@link ByteStream} of `cafs/transfer`, with one shared reader: the
 * trade's own frames and the CAFS push sessions take turns on the same stream (TRADE-3), so
 * bytes one reader pulled past its frame are handed back to the next reader. Reads are pulled
 * and the bytes buffered unread are capped per step (TRADE-19, the CAFS adapter's XFER-23).
 */
import type { Stream } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'
import { type ByteStreamOptions, libp2pByteStream } from '../../cafs/adapters/libp2p/index.js'
import type { ByteStream } from '../../cafs/transfer/index.js'

/** The incoming side of a stream, shared by successive readers, with push-back. */
export class SharedSource implements AsyncIterable<Uint8Array> {
  private readonly it: AsyncIterator<Uint8Array | Uint8ArrayList>
  private readonly pending: Uint8Array[] = []

  constructor(source: AsyncIterable<Uint8Array | Uint8ArrayList>) {
    this.it = source[Symbol.asyncIterator]()
  }

  /** Puts bytes back to be read first. */
  unshift(bytes: Uint8Array): void {
    if (bytes.length > 0) this.pending.unshift(bytes)
  }

  /** The next bytes, or undefined at the end of the stream; throws when the stream failed. */
  async next(): Promise<Uint8Array | undefined> {
    const p = this.pending.shift()
    if (p !== undefined) return p
    const r = await this.it.next()
    if (r.done === true) return undefined
    const v = r.value
    return v instanceof Uint8Array ? v : v.subarray()
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return {
      next: async () => {
        const value = await this.next()
        return value === undefined ? { done: true, value: undefined } : { done: false, value }
      }
    }
  }
}

/** A {@link ByteStream} over a libp2p stream plus its shared source. */
export interface TradeStream {
  /** For `sendFile` / `receiveFile` and the trade frames. */
  readonly bytes: ByteStream
  /** The shared incoming side (its iterator is `bytes.source`). */
  readonly source: SharedSource
  /**
   * Sets the unread bytes the next step allows (TRADE-19): beyond them the peer overran and the
   * read after the kept bytes fails `CAFS_XFER_OVERRUN`.
   */
  setMaxUnread(bytes: number): void
}

/**
 * Adapts a libp2p 3 stream through the CAFS adapter (pulled, bounded reads; `write` waits for
 * `onDrain` when the stream's buffer is full, `close` closes the writable end, `abort` resets
 * both directions). `options.maxUnreadBytes` is the first step's cap (default: a bulk step).
 */
export function libp2pTradeStream(stream: Stream, options: ByteStreamOptions = {}): TradeStream {
  const inner = libp2pByteStream(stream, options)
  const source = new SharedSource(inner.source)
  const bytes: ByteStream = {
    source,
    write: (data, o) => inner.write(data, o),
    close: (o) => inner.close(o),
    abort: (err) => inner.abort(err ?? new Error('trade aborted'))
  }
  return { bytes, source, setMaxUnread: (n) => inner.setMaxUnread(n) }
}
