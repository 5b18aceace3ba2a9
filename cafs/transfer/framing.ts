import { Uint8ArrayList } from 'uint8arraylist'
import { isBitwrkError } from '../../protocol/errors.js'
import type { AbortOptions } from '../types.js'
import { MAX_VARINT_BYTES, parseVarintPrefix, varintLength, writeVarint } from './codec.js'
import { type DeadlineOptions, withDeadline } from './deadline.js'
import { XferCode, xferError } from './errors.js'
import type { ByteStream } from './stream.js'

/**
 * Framing (XFER-1): every message is `varint(length) || body`, the body at most the limit the
 * reader passes for that read. Frames may be split or merged arbitrarily by the transport.
 */

/** Options of one frame read. */
export interface ReadFrameOptions extends AbortOptions {
  /** Largest body accepted for this read (js-libp2p's `maxDataLength`). */
  maxLength: number
  /** Per-message timeout: the whole frame must arrive within this many ms. */
  timeoutMs?: number
}

/** Prefixes `body` with its varint length, as one array ready to write. */
export function encodeFrame(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(varintLength(body.length) + body.length)
  const off = writeVarint(out, 0, body.length)
  out.set(body, off)
  return out
}

/** Converts an abort reason into the transfer error it stands for. */
export function abortToError(reason: unknown): Error {
  if (isBitwrkError(reason)) return reason
  return xferError(XferCode.ABORTED, 'aborted', { cause: String(reason) })
}

/**
 * The deadline of one transfer message: `CAFS_XFER_TIMEOUT` after `timeoutMs`, the abort error
 * ({@link abortToError}) when `signal` fires.
 */
export function messageDeadline(timeoutMs: number | undefined, signal?: AbortSignal): DeadlineOptions {
  return {
    timeoutMs,
    signal,
    onTimeout: () => xferError(XferCode.TIMEOUT, 'per-message timeout', { timeoutMs }),
    onAbort: abortToError
  }
}

/**
 * Reads length-prefixed frames from a byte source. A read that times out keeps its pending
 * transport read, so nothing is lost if the caller reads again.
 */
export class FrameReader {
  private readonly it: AsyncIterator<Uint8Array>
  private readonly buf = new Uint8ArrayList()
  private inflight: Promise<Uint8Array | undefined> | undefined
  private ended = false
  private failure: unknown
  /** Bytes taken from the source so far (for statistics and tests). */
  bytesRead = 0

  constructor(source: AsyncIterable<Uint8Array>) {
    this.it = source[Symbol.asyncIterator]()
  }

  /**
   * The next frame body, or `undefined` when the stream ended cleanly between frames. Throws
   * `CAFS_XFER_FRAME_TOO_LARGE`, `_BAD_VARINT`, `_TRUNCATED`, `_CLOSED` (the transport failed),
   * `_TIMEOUT` or `_ABORTED`.
   */
  read(options: ReadFrameOptions): Promise<Uint8Array | undefined> {
    // A read that timed out is still parsing; the next read joins it instead of racing it.
    this.inflight ??= this.readFrame(options.maxLength).finally(() => {
      this.inflight = undefined
    })
    return withDeadline(this.inflight, messageDeadline(options.timeoutMs, options.signal))
  }

  private async readFrame(maxLength: number): Promise<Uint8Array | undefined> {
    for (;;) {
      const avail = Math.min(this.buf.byteLength, MAX_VARINT_BYTES)
      const prefix = parseVarintPrefix((i) => this.buf.get(i), avail, maxLength)
      if (!prefix.need) {
        const total = prefix.length + prefix.value
        if (this.buf.byteLength >= total) {
          const body = this.buf.subarray(prefix.length, total)
          this.buf.consume(total)
          return body
        }
      }
      if (!(await this.fill())) {
        if (this.buf.byteLength === 0) return undefined
        throw xferError(XferCode.TRUNCATED, 'stream ended inside a frame', { buffered: this.buf.byteLength })
      }
    }
  }

  /** Pulls one more transport chunk; false at the end of the stream. */
  private async fill(): Promise<boolean> {
    if (this.ended) return false
    if (this.failure !== undefined) throw this.streamError()
    let r: IteratorResult<Uint8Array>
    try {
      r = await this.it.next()
    } catch (err) {
      this.failure = err
      throw this.streamError()
    }
    if (r.done === true) {
      this.ended = true
      return false
    }
    if (r.value.length > 0) {
      this.bytesRead += r.value.length
      this.buf.append(r.value)
    }
    return true
  }

  private streamError(): Error {
    // a source that failed with a code of its own (e.g. CAFS_XFER_OVERRUN) keeps it
    if (isBitwrkError(this.failure)) return this.failure
    const code = this.buf.byteLength > 0 ? XferCode.TRUNCATED : XferCode.CLOSED
    return xferError(code, 'stream failed', { cause: String(this.failure) })
  }
}

/** Writes one framed message with a per-message deadline (a stalled reader cannot hang us). */
export async function writeFrame(
  stream: ByteStream,
  body: Uint8Array,
  options: AbortOptions & { timeoutMs?: number }
): Promise<number> {
  return writeFramed(stream, encodeFrame(body), options)
}

/** Writes one message that is already framed (see `encodeChunksFrame`); like {@link writeFrame}. */
export async function writeFramed(
  stream: ByteStream,
  frame: Uint8Array,
  options: AbortOptions & { timeoutMs?: number }
): Promise<number> {
  try {
    await withDeadline(stream.write(frame, options), messageDeadline(options.timeoutMs, options.signal))
  } catch (err) {
    if (isBitwrkError(err)) throw err
    throw xferError(XferCode.CLOSED, 'write failed', { cause: String(err) })
  }
  return frame.length
}
