/**
 * A libp2p stream as the {@link ByteStream} of `cafs/transfer`, with one shared reader: the
 * trade's own frames and the CAFS push sessions take turns on the same stream (TRADE-3), so
 * bytes one reader pulled past its frame are handed back to the next reader.
 */
import type { Stream } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'
import type { ByteStream } from '../../cafs/transfer/index.js'
import type { AbortOptions } from '../../cafs/types.js'

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
}

function closedError(cause?: unknown): Error {
  return Object.assign(new Error('stream closed', { cause }), { code: 'ERR_STREAM_CLOSED' })
}

/**
 * Adapts a libp2p 3 stream: `write` sends and waits for `onDrain` when the stream's buffer is
 * full (back-pressure), `close` closes the writable end, `abort` resets both directions.
 */
export function libp2pTradeStream(stream: Stream): TradeStream {
  const source = new SharedSource(stream)
  const bytes: ByteStream = {
    source,
    async write(data: Uint8Array, options?: AbortOptions): Promise<void> {
      options?.signal?.throwIfAborted()
      let ok: boolean
      try {
        ok = stream.send(data)
      } catch (err) {
        throw closedError(err)
      }
      if (!ok)
        try {
          await stream.onDrain(options)
        } catch (err) {
          if (options?.signal?.aborted === true) throw options.signal.reason
          throw closedError(err)
        }
    },
    async close(options?: AbortOptions): Promise<void> {
      try {
        await stream.close(options)
      } catch {
        // already closed or reset: nothing left to flush
      }
    },
    abort(err?: Error): void {
      stream.abort(err ?? new Error('trade aborted'))
    }
  }
  return { bytes, source }
}
