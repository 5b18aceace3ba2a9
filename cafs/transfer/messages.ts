import { KEY_LENGTH, type Key, type Manifest } from '../types.js'
import { ByteReader, ByteWriter, varintLength, writeVarint } from './codec.js'
import { XferCode, xferError } from './errors.js'
import type { TransferLimits } from './limits.js'
import { decodeManifestBody, encodeManifestBody } from './manifest-wire.js'
import { decodeRanges, encodeRanges, type IndexRange } from './wishlist.js'

/**
 * The messages of the transfer protocol (XFER-4 … XFER-11): one type byte, then the payload.
 * Decoders check every length against the session's limits before allocating anything.
 */
export const MsgType = {
  /** Sender → receiver: the manifest on offer. */
  OFFER: 0x01,
  /** Receiver → sender: the manifest indices it wants (ranges). */
  WANT: 0x02,
  /** Sender/provider → receiver: one or more chunk records. */
  CHUNKS: 0x03,
  /** Sender/provider → receiver: no more chunk records for this offer/request. */
  DONE: 0x04,
  /** Receiver → sender: every chunk arrived and the file key checked out. */
  ACK: 0x05,
  /** Fetcher → provider: send these chunks by key. */
  GET: 0x06,
  /** Provider → fetcher: request indices it does not hold. */
  MISSING: 0x07,
  /** Either side: the session failed with this code; the sender closes. */
  ERROR: 0x7f
} as const

/** One chunk inside a CHUNKS message: its index (manifest index or GET position) and bytes. */
export interface ChunkRecord {
  readonly index: number
  readonly bytes: Uint8Array
  /**
   * True when `bytes` is an array of its own that no other code refers to (the decoder copied
   * it out of the received pieces, {@link decodeFrameParts}): a store may keep it as it is.
   */
  readonly owned?: boolean
}

/** A decoded message. */
export type Message =
  | { readonly type: 'offer'; readonly manifest: Manifest; readonly manifestKey: Key }
  | { readonly type: 'want'; readonly ranges: readonly IndexRange[] }
  | { readonly type: 'chunks'; readonly records: readonly ChunkRecord[] }
  | { readonly type: 'done' }
  | { readonly type: 'ack'; readonly fileKey: Key }
  | { readonly type: 'get'; readonly keys: readonly Key[] }
  | { readonly type: 'missing'; readonly indices: readonly number[] }
  | { readonly type: 'error'; readonly code: string }

/** The reads {@link decodeRecords} needs: a `ByteReader`, or a reader over received pieces. */
export interface RecordSource {
  readonly remaining: number
  varint(): number
}

/**
 * The records of a CHUNKS body after its type byte (XFER-6): `index` and `length` varints, then
 * the chunk's bytes as `take(length)` returns them. Throws `CAFS_XFER_CHUNK_TOO_LARGE` for a
 * record above `maxChunkSize` (before taking its bytes) and `CAFS_XFER_BAD_MESSAGE` for a body
 * without records; `owned` marks what `take` returns (see {@link ChunkRecord.owned}).
 */
export function decodeRecords(
  r: RecordSource,
  take: (n: number) => Uint8Array,
  limits: TransferLimits,
  owned: boolean
): ChunkRecord[] {
  const records: ChunkRecord[] = []
  while (r.remaining > 0) {
    const index = r.varint()
    const len = r.varint()
    if (len > limits.maxChunkSize)
      throw xferError(XferCode.CHUNK_TOO_LARGE, 'chunk record exceeds maxChunkSize', {
        index,
        length: len,
        maxChunkSize: limits.maxChunkSize
      })
    const bytes = take(len)
    records.push(owned ? { index, bytes, owned } : { index, bytes })
  }
  if (records.length === 0) throw xferError(XferCode.BAD_MESSAGE, 'CHUNKS without records')
  return records
}

/** What a decoder needs to know about the session. */
export interface DecodeContext {
  readonly limits: TransferLimits
  /** Chunk count of the manifest in play (needed to check WANT ranges). */
  readonly chunkCount?: number
}

/** Longest code an ERROR message may carry. */
export const MAX_ERROR_CODE_LENGTH = 64
const ERROR_CODE_RE = /^[A-Z0-9_]{1,64}$/

/** OFFER body. */
export function encodeOffer(manifest: Manifest): Uint8Array {
  const w = new ByteWriter(64 + manifest.chunks.length * (KEY_LENGTH + 4)).u8(MsgType.OFFER)
  encodeManifestBody(w, manifest)
  return w.finish()
}

/** WANT body. */
export function encodeWant(ranges: readonly IndexRange[]): Uint8Array {
  const w = new ByteWriter(8 + ranges.length * 4).u8(MsgType.WANT)
  encodeRanges(w, ranges)
  return w.finish()
}

/** CHUNKS body holding `records` in the given order. */
export function encodeChunks(records: readonly ChunkRecord[]): Uint8Array {
  let size = 1
  for (const r of records) size += 14 + r.bytes.length
  const w = new ByteWriter(size).u8(MsgType.CHUNKS)
  for (const r of records) w.varint(r.index).varint(r.bytes.length).bytes(r.bytes)
  return w.finish()
}

/**
 * The CHUNKS message for `records` already framed (XFER-1 length prefix included): one
 * allocation and one copy of the chunk bytes, where `encodeFrame(encodeChunks(…))` makes two.
 */
export function encodeChunksFrame(records: readonly ChunkRecord[]): Uint8Array {
  let body = 1
  for (const r of records) body += varintLength(r.index) + varintLength(r.bytes.length) + r.bytes.length
  const out = new Uint8Array(varintLength(body) + body)
  let o = writeVarint(out, 0, body)
  out[o++] = MsgType.CHUNKS
  for (const r of records) {
    o = writeVarint(out, o, r.index)
    o = writeVarint(out, o, r.bytes.length)
    out.set(r.bytes, o)
    o += r.bytes.length
  }
  return out
}

/** DONE body. */
export function encodeDone(): Uint8Array {
  return Uint8Array.of(MsgType.DONE)
}

/** ACK body. */
export function encodeAck(fileKey: Key): Uint8Array {
  return new ByteWriter(1 + KEY_LENGTH).u8(MsgType.ACK).bytes(fileKey).finish()
}

/** GET body. */
export function encodeGet(keys: readonly Key[]): Uint8Array {
  const w = new ByteWriter(8 + keys.length * KEY_LENGTH).u8(MsgType.GET).varint(keys.length)
  for (const k of keys) w.bytes(k)
  return w.finish()
}

/** MISSING body (indices ascending). */
export function encodeMissing(indices: readonly number[]): Uint8Array {
  const w = new ByteWriter(8 + indices.length * 2).u8(MsgType.MISSING).varint(indices.length)
  for (const i of indices) w.varint(i)
  return w.finish()
}

/** ERROR body; a code outside `[A-Z0-9_]{1,64}` is a caller bug. */
export function encodeError(code: string): Uint8Array {
  if (!ERROR_CODE_RE.test(code)) throw new RangeError(`bad error code ${code}`)
  return new ByteWriter(1 + code.length).u8(MsgType.ERROR).bytes(new TextEncoder().encode(code)).finish()
}

/**
 * Decodes one message body. Throws a {@link XferCode} error: `UNKNOWN_MESSAGE` for an empty
 * body or unknown type, `BAD_MESSAGE` for a malformed payload, or the specific code of the
 * message (`BAD_MANIFEST`, `MANIFEST_TOO_LARGE`, `BAD_WISHLIST`, `WISHLIST_OUT_OF_RANGE`,
 * `CHUNK_TOO_LARGE`, `REQUEST_TOO_LARGE`).
 */
export function decodeMessage(body: Uint8Array, ctx: DecodeContext): Message {
  const type = body[0]
  if (type === undefined) throw xferError(XferCode.UNKNOWN_MESSAGE, 'empty message')
  const r = new ByteReader(body, 1)
  switch (type) {
    case MsgType.OFFER: {
      const { manifest, manifestKey } = decodeManifestBody(r, ctx.limits)
      return { type: 'offer', manifest, manifestKey }
    }
    case MsgType.WANT: {
      if (ctx.chunkCount === undefined) throw xferError(XferCode.UNEXPECTED_MESSAGE, 'WANT without an offer')
      const ranges = decodeRanges(r, ctx.chunkCount)
      r.end()
      return { type: 'want', ranges }
    }
    case MsgType.CHUNKS:
      return { type: 'chunks', records: decodeRecords(r, (n) => r.bytes(n), ctx.limits, false) }
    case MsgType.DONE:
      r.end()
      return { type: 'done' }
    case MsgType.ACK: {
      const fileKey = r.bytes(KEY_LENGTH)
      r.end()
      return { type: 'ack', fileKey }
    }
    case MsgType.GET: {
      const count = r.varint()
      if (count === 0) throw xferError(XferCode.BAD_MESSAGE, 'GET without keys')
      if (count > ctx.limits.maxKeysPerRequest)
        throw xferError(XferCode.REQUEST_TOO_LARGE, 'GET asks for too many keys', {
          count,
          maxKeysPerRequest: ctx.limits.maxKeysPerRequest
        })
      if (r.remaining !== count * KEY_LENGTH) throw xferError(XferCode.BAD_MESSAGE, 'GET length mismatch')
      const keys: Key[] = []
      for (let i = 0; i < count; i++) keys.push(r.bytes(KEY_LENGTH))
      return { type: 'get', keys }
    }
    case MsgType.MISSING: {
      const count = r.varint()
      if (count === 0 || count > r.remaining) throw xferError(XferCode.BAD_MESSAGE, 'bad MISSING count')
      const indices: number[] = []
      for (let i = 0; i < count; i++) indices.push(r.varint())
      r.end()
      return { type: 'missing', indices }
    }
    case MsgType.ERROR: {
      const text = r.remaining <= MAX_ERROR_CODE_LENGTH ? new TextDecoder().decode(r.bytes(r.remaining)) : ''
      if (!ERROR_CODE_RE.test(text)) throw xferError(XferCode.BAD_MESSAGE, 'malformed ERROR code')
      return { type: 'error', code: text }
    }
    default:
      throw xferError(XferCode.UNKNOWN_MESSAGE, 'unknown message type', { type })
  }
}
