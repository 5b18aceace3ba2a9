/**
 * The byte codec of stored records (README.md "Value encoding"): big-endian fixed-width
 * integers, length-prefixed bytes and UTF-8 strings, and a checksum that binds each value to
 * its key. Decoding is strict: short input, trailing bytes, bad UTF-8 or a checksum mismatch
 * throw STORE_CORRUPT.
 */
import { createHash } from 'node:crypto'
import { ByteReader, ByteWriter, READ_FAILURE_TEXT, type ReadFailure } from '../../cafs/transfer/codec.js'
import { StoreCode, storeError } from './errors.js'

/** Bytes of the checksum appended to every value: the first 4 bytes of SHA-256(key ‖ payload). */
export const CHECKSUM_BYTES = 4

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

/** Builds the STORE_CORRUPT error of a failed read. */
function readError(why: ReadFailure): Error {
  return corrupt(READ_FAILURE_TEXT[why])
}

/** Appends fields to a growing buffer (the store's vocabulary over {@link ByteWriter}). */
export class Writer {
  private readonly w = new ByteWriter()

  /** One byte, 0..255. */
  u8(n: number): this {
    this.w.u8(n)
    return this
  }

  /** Four bytes big-endian, 0..2^32-1. */
  u32(n: number): this {
    this.w.u32(n)
    return this
  }

  /** Eight bytes big-endian, a safe non-negative integer (ms timestamps, counters). */
  u64(n: number): this {
    this.w.u64(n)
    return this
  }

  /** u32 length, then the bytes. */
  bytes(b: Uint8Array): this {
    this.w.prefixed(b, 'u32')
    return this
  }

  /** u32 length, then the UTF-8 bytes. */
  str(s: string): this {
    return this.bytes(encoder.encode(s))
  }

  /** The concatenated bytes (a fresh array). */
  finish(): Uint8Array {
    return this.w.finish().slice()
  }
}

/** Throws STORE_CORRUPT with `why`. */
export function corrupt(why: string): never {
  throw storeError(StoreCode.CORRUPT, `corrupt record: ${why}`)
}

/** Reads fields written by {@link Writer} (over {@link ByteReader}); every failure is STORE_CORRUPT. */
export class Reader {
  private readonly r: ByteReader

  constructor(buf: Uint8Array) {
    this.r = new ByteReader(buf, 0, readError)
  }

  /** One byte. */
  u8(): number {
    return this.r.u8()
  }

  /** A big-endian u32. */
  u32(): number {
    return this.r.u32()
  }

  /** A big-endian u64 that must be a safe integer. */
  u64(): number {
    return this.r.u64()
  }

  /** Length-prefixed bytes of at most `max` bytes (a copy). */
  bytes(max: number): Uint8Array {
    return this.r.prefixed('u32', max).slice()
  }

  /** A length-prefixed UTF-8 string of at most `max` bytes. */
  str(max: number): string {
    const b = this.r.prefixed('u32', max)
    try {
      return decoder.decode(b)
    } catch {
      return corrupt('invalid UTF-8')
    }
  }

  /** Asserts that every byte was consumed. */
  end(): void {
    this.r.end()
  }
}

/** Eight bytes big-endian of a safe non-negative integer (key parts sort numerically). */
export function u64Bytes(n: number): Uint8Array {
  return new ByteWriter(8).u64(n).finish()
}

/** Reads {@link u64Bytes} at `offset` of `b` (STORE_CORRUPT when short or beyond 2^53). */
export function readU64(b: Uint8Array, offset: number): number {
  return new ByteReader(b, offset, (why) =>
    corrupt(why === 'unsafe-integer' ? 'integer beyond 2^53' : 'truncated key')
  ).u64()
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
