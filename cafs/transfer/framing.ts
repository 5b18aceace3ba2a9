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
 * transport read, so nothing is lost if the caller reads again. The bytes received are kept as
 * the transport delivered them (a queue of views, no copy); a frame body comes back as one view
 * when it lies inside one delivered piece, and is joined into a new array only when it spans
 * several and the caller asks for one array ({@link read}; {@link readParts} never joins).
 */
export class FrameReader {
  private readonly it: AsyncIterator<Uint8Array>
  /** Received pieces; those before `first` are consumed, `parts[first]` from `head` on. */
  private parts: Uint8Array[] = []
  private first = 0
  private head = 0
  private buffered = 0
  private inflight: Promise<Uint8Array[] | undefined> | undefined
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
  async read(options: ReadFrameOptions): Promise<Uint8Array | undefined> {
    const parts = await this.readParts(options)
    return parts === undefined ? undefined : joinParts(parts)
  }

  /**
   * Like {@link read}, but the body comes as the views of the received pieces it spans, in
   * order (never empty, never copied): a decoder copies each field out once.
   */
  readParts(options: ReadFrameOptions): Promise<Uint8Array[] | undefined> {
    // A read that timed out is still parsing; the next read joins it instead of racing it.
    this.inflight ??= this.readFrame(options.maxLength).finally(() => {
      this.inflight = undefined
    })
    return withDeadline(this.inflight, messageDeadline(options.timeoutMs, options.signal))
  }

  /** The buffered byte at offset `i` (i < buffered). */
  private byteAt(i: number): number {
    let at = this.head + i
    for (let k = this.first; k < this.parts.length; k++) {
      const p = this.parts[k] as Uint8Array
      if (at < p.length) return p[at] as number
      at -= p.length
    }
    throw new RangeError('byteAt beyond the buffered bytes')
  }

  /** Removes the first `n` buffered bytes and returns them as views. */
  private take(n: number): Uint8Array[] {
    const out: Uint8Array[] = []
    let left = n
    while (left > 0) {
      const p = this.parts[this.first] as Uint8Array
      const avail = p.length - this.head
      if (avail <= left) {
        out.push(this.head === 0 ? p : p.subarray(this.head))
        this.first++
        this.head = 0
        left -= avail
      } else {
        out.push(p.subarray(this.head, this.head + left))
        this.head += left
        left = 0
      }
    }
    this.buffered -= n
    // Drop consumed pieces in one step now and then: many tiny pieces cost linear time, not quadratic.
    if (this.first === this.parts.length) {
      this.parts = []
      this.first = 0
    } else if (this.first >= 1024 && this.first * 2 >= this.parts.length) {
      this.parts = this.parts.slice(this.first)
      this.first = 0
    }
    return out
  }

  private async readFrame(maxLength: number): Promise<Uint8Array[] | undefined> {
    for (;;) {
      const avail = Math.min(this.buffered, MAX_VARINT_BYTES)
      const prefix = parseVarintPrefix((i) => this.byteAt(i), avail, maxLength)
      if (!prefix.need) {
        const total = prefix.length + prefix.value
        if (this.buffered >= total) {
          this.take(prefix.length)
          // an empty body is one empty view (the decoder refuses it with its own code)
          return prefix.value === 0 ? [new Uint8Array(0)] : this.take(prefix.value)
        }
      }
      if (!(await this.fill())) {
        if (this.buffered === 0) return undefined
        throw xferError(XferCode.TRUNCATED, 'stream ended inside a frame', { buffered: this.buffered })
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
      this.parts.push(r.value)
      this.buffered += r.value.length
    }
    return true
  }

  private streamError(): Error {
    // a source that failed with a code of its own (e.g. CAFS_XFER_OVERRUN) keeps it
    if (isBitwrkError(this.failure)) return this.failure
    const code = this.buffered > 0 ? XferCode.TRUNCATED : XferCode.CLOSED
    return xferError(code, 'stream failed', { cause: String(this.failure) })
  }
}

/** The parts as one array: the part itself when there is one, else a new joined (plain) array. */
export function joinParts(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array
  const b = Buffer.concat(parts)
  return new Uint8Array(b.buffer, b.byteOffset, b.length)
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
