/**
 * The byte codec of stored records (README.md "Value encoding"): big-endian fixed-width
 * integers, length-prefixed bytes and UTF-8 strings, and a checksum that binds each value to
 * its key. Decoding is strict: short input, trailing bytes, bad UTF-8 or a checksum mismatch
 * throw STORE_CORRUPT.
 */
import { createHash } from 'node:crypto'
import { StoreError, storeError } from './errors.js'

/** Bytes of the checksum appended to every value: the first 4 bytes of SHA-256(key ‖ payload). */
export const CHECKSUM_BYTES = 4

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

/** 2^32, to split safe integers into two big-endian u32 halves. */
const TWO_32 = 0x1_0000_0000

/** Appends fields to a growing buffer. */
export class Writer {
  private readonly parts: Uint8Array[] = []
  private length = 0

  private push(bytes: Uint8Array): this {
    this.parts.push(bytes)
    this.length += bytes.length
    return this
  }

  /** One byte, 0..255. */
  u8(n: number): this {
    if (!Number.isInteger(n) || n < 0 || n > 0xff) throw new RangeError('u8 out of range')
    return this.push(Uint8Array.of(n))
  }

  /** Four bytes big-endian, 0..2^32-1. */
  u32(n: number): this {
    if (!Number.isInteger(n) || n < 0 || n >= TWO_32) throw new RangeError('u32 out of range')
    const b = new Uint8Array(4)
    new DataView(b.buffer).setUint32(0, n)
    return this.push(b)
  }

  /** Eight bytes big-endian, a safe non-negative integer (ms timestamps, counters). */
  u64(n: number): this {
    return this.push(u64Bytes(n))
  }

  /** u32 length, then the bytes. */
  bytes(b: Uint8Array): this {
    this.u32(b.length)
    return this.push(Uint8Array.from(b))
  }

  /** u32 length, then the UTF-8 bytes. */
  str(s: string): this {
    return this.bytes(encoder.encode(s))
  }

  /** The concatenated bytes. */
  finish(): Uint8Array {
    const out = new Uint8Array(this.length)
    let at = 0
    for (const p of this.parts) {
      out.set(p, at)
      at += p.length
    }
    return out
  }
}

/** Throws STORE_CORRUPT with `why`. */
export function corrupt(why: string): never {
  throw storeError(StoreError.CORRUPT, `corrupt record: ${why}`)
}

/** Reads fields written by {@link Writer}; every failure is STORE_CORRUPT. */
export class Reader {
  private at = 0
  private readonly view: DataView

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  }

  private need(n: number): number {
    if (this.at + n > this.buf.length) corrupt('truncated')
    const at = this.at
    this.at += n
    return at
  }

  /** One byte. */
  u8(): number {
    return this.view.getUint8(this.need(1))
  }

  /** A big-endian u32. */
  u32(): number {
    return this.view.getUint32(this.need(4))
  }

  /** A big-endian u64 that must be a safe integer. */
  u64(): number {
    const at = this.need(8)
    const hi = this.view.getUint32(at)
    const lo = this.view.getUint32(at + 4)
    const n = hi * TWO_32 + lo
    if (!Number.isSafeInteger(n)) corrupt('integer beyond 2^53')
    return n
  }

  /** Length-prefixed bytes of at most `max` bytes (a copy). */
  bytes(max: number): Uint8Array {
    const n = this.u32()
    if (n > max) corrupt('field too long')
    const at = this.need(n)
    return this.buf.slice(at, at + n)
  }

  /** A length-prefixed UTF-8 string of at most `max` bytes. */
  str(max: number): string {
    const b = this.bytes(max)
    try {
      return decoder.decode(b)
    } catch {
      return corrupt('invalid UTF-8')
    }
  }

  /** Asserts that every byte was consumed. */
  end(): void {
    if (this.at !== this.buf.length) corrupt('trailing bytes')
  }
}

/** Eight bytes big-endian of a safe non-negative integer (key parts sort numerically). */
export function u64Bytes(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError('u64 must be a safe non-negative integer')
  const b = new Uint8Array(8)
  const v = new DataView(b.buffer)
  v.setUint32(0, Math.floor(n / TWO_32))
  v.setUint32(4, n % TWO_32)
  return b
}

/** Reads {@link u64Bytes} at `offset` of `b` (STORE_CORRUPT when short or beyond 2^53). */
export function readU64(b: Uint8Array, offset: number): number {
  if (offset + 8 > b.length) corrupt('truncated key')
  const v = new DataView(b.buffer, b.byteOffset + offset, 8)
  const n = v.getUint32(0) * TWO_32 + v.getUint32(4)
  if (!Number.isSafeInteger(n)) corrupt('integer beyond 2^53')
  return n
}

/** Concatenation of byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0
  for (const p of parts) n += p.length
  const out = new Uint8Array(n)
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

/** UTF-8 bytes of `s`. */
export function utf8(s: string): Uint8Array {
  return encoder.encode(s)
}

/** Strict UTF-8 decoding (STORE_CORRUPT on invalid bytes). */
export function fromUtf8(b: Uint8Array): string {
  try {
    return decoder.decode(b)
  } catch {
    return corrupt('invalid UTF-8 in key')
  }
}

function checksum(key: Uint8Array, payload: Uint8Array): Uint8Array {
  return createHash('sha256').update(key).update(payload).digest().subarray(0, CHECKSUM_BYTES)
}

/** The stored value of `payload` under `key`: payload ‖ checksum. */
export function seal(key: Uint8Array, payload: Uint8Array): Uint8Array {
  return concat(payload, checksum(key, payload))
}

/**
 * The payload of a stored value, after checking that its checksum matches `key` and the
 * payload (a flipped bit or a value copied under another key is STORE_CORRUPT).
 */
export function unseal(key: Uint8Array, value: Uint8Array): Uint8Array {
  if (value.length < CHECKSUM_BYTES) corrupt('shorter than its checksum')
  const payload = value.subarray(0, value.length - CHECKSUM_BYTES)
  const sum = checksum(key, payload)
  for (let i = 0; i < CHECKSUM_BYTES; i++)
    if (sum[i] !== value[value.length - CHECKSUM_BYTES + i]) corrupt('checksum mismatch')
  return Uint8Array.from(payload)
}

/** Decodes a sealed value with `read`, which must consume the whole payload. */
export function decodeSealed<T>(key: Uint8Array, value: Uint8Array, read: (r: Reader) => T): T {
  const r = new Reader(unseal(key, value))
  const out = read(r)
  r.end()
  return out
}

/** Throws STORE_CORRUPT with `why` unless `ok`. */
export function check(ok: boolean, why: string): asserts ok {
  if (!ok) corrupt(why)
}
