import { ByteReader, ByteWriter } from '../../transfer/codec.js'
import { XferCode } from '../../transfer/index.js'
import { KEY_LENGTH, type Key } from '../../types.js'
import { xferError } from './errors.js'

/**
 * The query messages the chunk-exchange protocol adds to the CAFS pull protocol
 * (protocol/spec/chunk-exchange.md CHUNK-4 … CHUNK-6). Framing, GET/CHUNKS/MISSING/DONE/ERROR
 * and OFFER are the CAFS transfer messages (XFER-1, XFER-5, XFER-15 … XFER-17), reused as is.
 */

/** The protocol id (DESIGN.md §3). */
export const CHUNK_PROTOCOL = '/bitwrk/chunk/1.0.0'

/** Type bytes of the query messages; 0x01 … 0x07 and 0x7f belong to CAFS transfer. */
export const QueryType = {
  /** Fetcher → provider: which of these keys do you hold? */
  HAVE: 0x10,
  /** Provider → fetcher: one bit per asked key. */
  HAVE_REPLY: 0x11,
  /** Fetcher → provider: the manifest of this file key (answered by OFFER or MISSING). */
  MANIFEST_GET: 0x12
} as const

/** HAVE body: `0x10 | varint count | count × key`. */
export function encodeHave(keys: readonly Key[]): Uint8Array {
  const w = new ByteWriter(8 + keys.length * KEY_LENGTH).u8(QueryType.HAVE).varint(keys.length)
  for (const k of keys) w.bytes(k)
  return w.finish()
}

/**
 * Decodes a HAVE body: 1 … `maxKeys` keys (`CAFS_XFER_REQUEST_TOO_LARGE` above), exact length
 * (`CAFS_XFER_BAD_MESSAGE` otherwise).
 */
export function decodeHave(body: Uint8Array, maxKeys: number): Key[] {
  const r = new ByteReader(body, 1)
  const count = r.varint()
  if (count === 0) throw xferError(XferCode.BAD_MESSAGE, 'HAVE without keys')
  if (count > maxKeys)
    throw xferError(XferCode.REQUEST_TOO_LARGE, 'HAVE asks for too many keys', { count, maxKeys })
  if (r.remaining !== count * KEY_LENGTH) throw xferError(XferCode.BAD_MESSAGE, 'HAVE length mismatch')
  const keys: Key[] = []
  for (let i = 0; i < count; i++) keys.push(r.bytes(KEY_LENGTH))
  return keys
}

/** HAVE_REPLY body: `0x11 | varint count | ⌈count/8⌉ bytes`, bit i = byte[i>>3] bit (i&7). */
export function encodeHaveReply(held: readonly boolean[]): Uint8Array {
  const bits = new Uint8Array(Math.ceil(held.length / 8))
  held.forEach((h, i) => {
    if (h) bits[i >> 3] = (bits[i >> 3] as number) | (1 << (i & 7))
  })
  return new ByteWriter(8 + bits.length).u8(QueryType.HAVE_REPLY).varint(held.length).bytes(bits).finish()
}

/**
 * Decodes a HAVE_REPLY for a HAVE of `expected` keys: the count must match, the bitmap be
 * exactly ⌈count/8⌉ bytes and its padding bits zero (`CAFS_XFER_BAD_MESSAGE` otherwise).
 */
export function decodeHaveReply(body: Uint8Array, expected: number): boolean[] {
  if (body[0] !== QueryType.HAVE_REPLY) throw xferError(XferCode.UNEXPECTED_MESSAGE, 'expected HAVE_REPLY')
  const r = new ByteReader(body, 1)
  const count = r.varint()
  if (count !== expected) throw xferError(XferCode.BAD_MESSAGE, 'HAVE_REPLY count mismatch')
  const bits = r.bytes(Math.ceil(count / 8))
  r.end()
  const out: boolean[] = []
  for (let i = 0; i < count; i++) out.push((((bits[i >> 3] as number) >> (i & 7)) & 1) === 1)
  const last = bits[bits.length - 1]
  if (count % 8 !== 0 && last !== undefined && last >> (count % 8) !== 0)
    throw xferError(XferCode.BAD_MESSAGE, 'HAVE_REPLY padding bits set')
  return out
}

/** MANIFEST_GET body: `0x12 | fileKey (32)`. */
export function encodeManifestGet(fileKey: Key): Uint8Array {
  return new ByteWriter(1 + KEY_LENGTH).u8(QueryType.MANIFEST_GET).bytes(fileKey).finish()
}

/** Decodes a MANIFEST_GET body (exactly 33 bytes, else `CAFS_XFER_BAD_MESSAGE`). */
export function decodeManifestGet(body: Uint8Array): Key {
  const r = new ByteReader(body, 1)
  const key = r.bytes(KEY_LENGTH)
  r.end()
  return key
}
