import { XferCode, xferError } from './errors.js'

/**
 * Unsigned LEB128 varints (7 bits per byte, least significant group first, high bit = "more"),
 * minimally encoded and at most {@link MAX_VARINT_BYTES} bytes long (XFER-2), and the one byte
 * reader/writer of the node's binary codecs (issue 13): transfer messages, stored records and
 * sync messages, each reader throwing its codec's own error code.
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

/** 2^32, to split safe integers into two big-endian u32 halves. */
const TWO_32 = 0x1_0000_0000

/** Width of a length prefix: one, two or four bytes big-endian, or a varint. */
export type LengthPrefix = 'u8' | 'u16' | 'u32' | 'varint'

/**
 * Appends fields to a growing byte buffer (messages are built once, then framed): single bytes,
 * big-endian fixed-width integers, varints, raw and length-prefixed bytes. A value out of its
 * field's range is a caller bug (`RangeError`).
 */
export class ByteWriter {
  private buf: Uint8Array
  private view: DataView
  private pos = 0

  constructor(initialCapacity = 64) {
    this.buf = new Uint8Array(initialCapacity)
    this.view = new DataView(this.buf.buffer)
  }

  private ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) return
    let cap = Math.max(this.buf.length * 2, 1)
    while (cap < this.pos + extra) cap *= 2
    const next = new Uint8Array(cap)
    next.set(this.buf.subarray(0, this.pos))
    this.buf = next
    this.view = new DataView(next.buffer)
  }

  /** Appends one byte, 0..255. */
  u8(n: number): this {
    if (!Number.isInteger(n) || n < 0 || n > 0xff) throw new RangeError('u8 out of range')
    this.ensure(1)
    this.buf[this.pos++] = n
    return this
  }

  /** Appends two bytes big-endian, 0..2^16-1. */
  u16(n: number): this {
    if (!Number.isInteger(n) || n < 0 || n > 0xffff) throw new RangeError('u16 out of range')
    this.ensure(2)
    this.view.setUint16(this.pos, n)
    this.pos += 2
    return this
  }

  /** Appends four bytes big-endian, 0..2^32-1. */
  u32(n: number): this {
    if (!Number.isInteger(n) || n < 0 || n >= TWO_32) throw new RangeError('u32 out of range')
    this.ensure(4)
    this.view.setUint32(this.pos, n)
    this.pos += 4
    return this
  }

  /** Appends eight bytes big-endian of a safe non-negative integer (they sort numerically). */
  u64(n: number): this {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError('u64 must be a safe non-negative integer')
    this.ensure(8)
    this.view.setUint32(this.pos, Math.floor(n / TWO_32))
    this.view.setUint32(this.pos + 4, n % TWO_32)
    this.pos += 8
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

  /** Appends the length of `b` in `prefix`'s width, then `b`. */
  prefixed(b: Uint8Array, prefix: LengthPrefix): this {
    if (prefix === 'varint') this.varint(b.length)
    else this[prefix](b.length)
    return this.bytes(b)
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
 * Why a {@link ByteReader} read failed: the input ended inside a field (or inside a varint),
 * bytes were left over, a u64 was beyond 2^53, or a length prefix was above its maximum.
 */
export type ReadFailure = 'truncated' | 'truncated-varint' | 'trailing' | 'unsafe-integer' | 'too-long'

/** Plain words for each read failure, for a codec's own error message. */
export const READ_FAILURE_TEXT: Readonly<Record<ReadFailure, string>> = {
  truncated: 'truncated',
  'truncated-varint': 'truncated',
  trailing: 'trailing bytes',
  'unsafe-integer': 'integer beyond 2^53',
  'too-long': 'field too long'
}

/** The transfer codec's errors: every failed read is `CAFS_XFER_BAD_MESSAGE`. */
export function xferReadError(why: ReadFailure): Error {
  const text: Record<ReadFailure, string> = {
    truncated: 'message ends inside a field',
    'truncated-varint': 'message ends inside a varint',
    trailing: 'trailing bytes after the message',
    'unsafe-integer': 'integer beyond 2^53',
    'too-long': 'field longer than its limit'
  }
  return xferError(XferCode.BAD_MESSAGE, text[why])
}

/**
 * Reads fields from a message or record: every out-of-bounds read throws the error `fail` builds
 * (the codec's own code; by default `CAFS_XFER_BAD_MESSAGE`), so decoders need no bounds checks
 * of their own. A malformed varint throws `CAFS_XFER_BAD_VARINT` (XFER-2).
 */
export class ByteReader {
  private pos: number
  private readonly view: DataView

  constructor(
    private readonly buf: Uint8Array,
    offset = 0,
    private readonly fail: (why: ReadFailure) => Error = xferReadError
  ) {
    this.pos = offset
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  }

  /** Bytes not read yet. */
  get remaining(): number {
    return this.buf.length - this.pos
  }

  /** Throws unless at least `n` more bytes are there (checks a count before allocating). */
  need(n: number): void {
    if (n > this.remaining) throw this.fail('truncated')
  }

  private take(n: number): number {
    this.need(n)
    const at = this.pos
    this.pos += n
    return at
  }

  /** Reads one byte. */
  u8(): number {
    return this.view.getUint8(this.take(1))
  }

  /** Reads a big-endian u16. */
  u16(): number {
    return this.view.getUint16(this.take(2))
  }

  /** Reads a big-endian u32. */
  u32(): number {
    return this.view.getUint32(this.take(4))
  }

  /** Reads a big-endian u64 that must be a safe integer. */
  u64(): number {
    const at = this.take(8)
    const n = this.view.getUint32(at) * TWO_32 + this.view.getUint32(at + 4)
    if (!Number.isSafeInteger(n)) throw this.fail('unsafe-integer')
    return n
  }

  /** Reads a varint. */
  varint(): number {
    const p = parseVarintPrefix((i) => this.buf[this.pos + i] as number, this.remaining)
    if (p.need) throw this.fail('truncated-varint')
    this.pos += p.length
    return p.value
  }

  /** Reads `n` bytes (a view into the input). */
  bytes(n: number): Uint8Array {
    const at = this.take(n)
    return this.buf.subarray(at, at + n)
  }

  /** Reads a length in `prefix`'s width, at most `max`, then that many bytes (a view). */
  prefixed(prefix: LengthPrefix, max: number): Uint8Array {
    const n = prefix === 'varint' ? this.varint() : this[prefix]()
    if (n > max) throw this.fail('too-long')
    return this.bytes(n)
  }

  /** Throws unless every byte was consumed. */
  end(): void {
    if (this.remaining !== 0) throw this.fail('trailing')
  }
}
