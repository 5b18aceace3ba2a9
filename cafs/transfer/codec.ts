import { XferCode, xferError } from './errors.js'

/**
 * Unsigned LEB128 varints (7 bits per byte, least significant group first, high bit = "more"),
 * minimally encoded and at most {@link MAX_VARINT_BYTES} bytes long (XFER-2), plus the small
 * cursor types every message codec uses.
 */

/** Longest accepted varint: 7 bytes carry 49 bits, enough for any safe file size. */
export const MAX_VARINT_BYTES = 7

/** Largest value a varint may carry (2^49 − 1). */
export const MAX_VARINT_VALUE = 2 ** 49 - 1

/** Number of bytes the varint encoding of `n` takes. */
export function varintLength(n: number): number {
  let len = 1
  let v = n
  while (v >= 0x80) {
    v = Math.floor(v / 128)
    len++
  }
  return len
}

/** Writes the varint of `n` into `out` at `offset`; returns the offset after it. */
export function writeVarint(out: Uint8Array, offset: number, n: number): number {
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_VARINT_VALUE)
    throw new RangeError(`varint out of range: ${n}`)
  let v = n
  let o = offset
  while (v >= 0x80) {
    out[o++] = (v % 128) | 0x80
    v = Math.floor(v / 128)
  }
  out[o++] = v
  return o
}

/** The varint encoding of `n` as a fresh array. */
export function encodeVarint(n: number): Uint8Array {
  const out = new Uint8Array(varintLength(n))
  writeVarint(out, 0, n)
  return out
}

/**
 * Result of feeding bytes to {@link parseVarintPrefix}: `need` = more bytes required,
 * otherwise the value and the number of bytes it took.
 */
export type VarintParse = { need: true } | { need: false; value: number; length: number }

/**
 * Parses a varint from `at(0..available-1)` without consuming; throws `CAFS_XFER_BAD_VARINT`
 * on an over-long or non-minimal encoding. `limit` makes it throw `CAFS_XFER_FRAME_TOO_LARGE`
 * as soon as the partial value already exceeds it (so a hostile prefix is refused early).
 */
export function parseVarintPrefix(at: (i: number) => number, available: number, limit?: number): VarintParse {
  let value = 0
  let scale = 1
  for (let i = 0; i < MAX_VARINT_BYTES; i++) {
    if (i >= available) return { need: true }
    const b = at(i)
    value += (b & 0x7f) * scale
    if (limit !== undefined && value > limit)
      throw xferError(XferCode.FRAME_TOO_LARGE, 'length prefix exceeds the limit', { limit })
    if ((b & 0x80) === 0) {
      // A final zero group after the first byte means the encoding was not minimal.
      if (b === 0 && i > 0) throw xferError(XferCode.BAD_VARINT, 'non-minimal varint')
      return { need: false, value, length: i + 1 }
    }
    scale *= 128
  }
  throw xferError(XferCode.BAD_VARINT, 'varint longer than 7 bytes')
}

/** Appends fields to a growing byte buffer (messages are built once, then framed). */
export class ByteWriter {
  private buf: Uint8Array
  private pos = 0

  constructor(initialCapacity = 64) {
    this.buf = new Uint8Array(initialCapacity)
  }

  private ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) return
    let cap = this.buf.length * 2
    while (cap < this.pos + extra) cap *= 2
    const next = new Uint8Array(cap)
    next.set(this.buf.subarray(0, this.pos))
    this.buf = next
  }

  /** Appends one byte. */
  byte(b: number): this {
    this.ensure(1)
    this.buf[this.pos++] = b
    return this
  }

  /** Appends a varint. */
  varint(n: number): this {
    this.ensure(MAX_VARINT_BYTES)
    this.pos = writeVarint(this.buf, this.pos, n)
    return this
  }

  /** Appends raw bytes. */
  bytes(b: Uint8Array): this {
    this.ensure(b.length)
    this.buf.set(b, this.pos)
    this.pos += b.length
    return this
  }

  /** Bytes written so far. */
  get length(): number {
    return this.pos
  }

  /** The written bytes (a view, valid until the next append). */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos)
  }
}

/**
 * Reads fields from a message payload. Every short read throws `CAFS_XFER_BAD_MESSAGE`, so
 * decoders need no bounds checks of their own.
 */
export class ByteReader {
  private pos: number

  constructor(
    private readonly buf: Uint8Array,
    offset = 0
  ) {
    this.pos = offset
  }

  /** Bytes not read yet. */
  get remaining(): number {
    return this.buf.length - this.pos
  }

  /** Reads one byte. */
  byte(): number {
    const b = this.buf[this.pos]
    if (b === undefined) throw xferError(XferCode.BAD_MESSAGE, 'message ends inside a field')
    this.pos++
    return b
  }

  /** Reads a varint. */
  varint(): number {
    const p = parseVarintPrefix((i) => this.buf[this.pos + i] as number, this.remaining)
    if (p.need) throw xferError(XferCode.BAD_MESSAGE, 'message ends inside a varint')
    this.pos += p.length
    return p.value
  }

  /** Reads `n` bytes (a view into the message). */
  bytes(n: number): Uint8Array {
    if (n > this.remaining) throw xferError(XferCode.BAD_MESSAGE, 'message ends inside a field')
    const out = this.buf.subarray(this.pos, this.pos + n)
    this.pos += n
    return out
  }

  /** Throws `CAFS_XFER_BAD_MESSAGE` unless every byte was consumed. */
  end(): void {
    if (this.remaining !== 0) throw xferError(XferCode.BAD_MESSAGE, 'trailing bytes after the message')
  }
}
