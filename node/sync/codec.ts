import { compare } from 'uint8arrays/compare'
import { ByteReader, ByteWriter, READ_FAILURE_TEXT, type ReadFailure } from '../../cafs/transfer/codec.js'
import { ARTICLE_MAX_LENGTH, isArticle } from '../../protocol/article/index.js'
import { BID_MAX_ENCODED_BYTES } from '../../protocol/bid/index.js'
import { SyncCode, syncError } from './errors.js'
import type { SyncLimits } from './limits.js'

/**
 * Message codec of bid sync (protocol/spec/sync.md SYNC-3 … SYNC-7). A message body is one type
 * byte and a fixed binary payload, integers big-endian, no optional trailing data. Decoders
 * check every length against the payload and the limits before allocating, and throw a
 * `BitwrkError` with `SYNC_MALFORMED` (does not decode) or `SYNC_TOO_MANY` (over a count limit).
 */

/** Message type bytes (SYNC-3). Requests have the high bit clear, responses set. */
export const MsgType = {
  SUMMARY_REQ: 0x01,
  GET_BUCKETS: 0x02,
  GET_IDS: 0x03,
  GET_BIDS: 0x04,
  GET_SNAPSHOT: 0x05,
  TIME_REQ: 0x06,
  SUMMARY: 0x81,
  BIDS: 0x82,
  IDS: 0x83,
  DONE: 0x84,
  SNAPSHOT: 0x85,
  TIME: 0x86,
  ERROR: 0xff
} as const

/** Length of a bid id on the wire: the raw SHA-256 (BID-19). */
export const ID_BYTES = 32
/** Length of a bucket digest (SYNC-4): the first 16 bytes of a SHA-256. */
export const BUCKET_DIGEST_BYTES = 16
/** Bytes per bucket in a SUMMARY: u32 count and the digest. */
export const SUMMARY_ENTRY_BYTES = 4 + BUCKET_DIGEST_BYTES
/** Longest match key: an article, `:`, a currency code (ART-6). */
const MAX_KEY_LENGTH = ARTICLE_MAX_LENGTH + 4
/** Longest error code in an ERROR message. */
const MAX_CODE_LENGTH = 64

/** A request, requester → responder. */
export type SyncRequest =
  | { readonly type: 'summaryReq'; readonly article: string; readonly bits: number }
  | { readonly type: 'getBuckets'; readonly buckets: readonly number[] }
  | { readonly type: 'getIds'; readonly buckets: readonly number[] }
  | { readonly type: 'getBids'; readonly ids: readonly Uint8Array[] }
  | { readonly type: 'getSnapshot'; readonly key: string }
  | { readonly type: 'timeReq' }

/** Header of a snapshot (SYNC-7); the resting ids follow in IDS frames. */
export interface SnapshotHeader {
  /** Last matched epoch, ≥ −1. */
  readonly closedEpoch: number
  /** Chained match digest after `closedEpoch` (32 bytes). */
  readonly digest: Uint8Array
  /** Number of resting bid ids that follow. */
  readonly count: number
}

/** A response, responder → requester. */
export type SyncResponse =
  | {
      readonly type: 'summary'
      readonly bits: number
      /** Live bids of the article at the responder. */
      readonly total: number
      /** Count per bucket, `2^bits` entries. */
      readonly counts: readonly number[]
      /** Digest per bucket, `2^bits × 16` bytes. */
      readonly digests: Uint8Array
    }
  | { readonly type: 'bids'; readonly bids: readonly Uint8Array[] }
  | { readonly type: 'ids'; readonly ids: readonly Uint8Array[] }
  | { readonly type: 'done' }
  | { readonly type: 'snapshot'; readonly header: SnapshotHeader | undefined }
  /** The responder's host clock, ms since the epoch (SYNC-16). */
  | { readonly type: 'time'; readonly nowMs: number }
  | { readonly type: 'error'; readonly code: string }

/** Any sync message. */
export type SyncMessage = SyncRequest | SyncResponse

/** The message `write` puts into a writer, which must be exactly `size` bytes (else a codec bug). */
function sized(size: number, write: (w: ByteWriter) => unknown): Uint8Array {
  const w = new ByteWriter(size)
  write(w)
  if (w.length !== size) throw new Error(`codec bug: wrote ${w.length} of ${size}`)
  return w.finish()
}

/** The bytes of printable ASCII text. */
function ascii(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0))
}

function malformed(why: string): never {
  return syncError(SyncCode.MALFORMED, `malformed sync message: ${why}`)
}

/** Builds the SYNC_MALFORMED error of a failed read. */
function readError(why: ReadFailure): Error {
  return malformed(why === 'unsafe-integer' ? 'integer above 2^53 - 1' : READ_FAILURE_TEXT[why])
}

/** A reader of a message body after its type byte; every short read is SYNC_MALFORMED. */
function reader(body: Uint8Array): ByteReader {
  return new ByteReader(body, 1, readError)
}

/** `n` bytes, copied: frames are views into the reader's buffer, stored bids must not pin it. */
function copy(r: ByteReader, n: number): Uint8Array {
  return r.bytes(n).slice()
}

/** `n` bytes of printable ASCII text. */
function readAscii(r: ByteReader, n: number): string {
  const b = r.bytes(n)
  for (const c of b) if (c < 0x21 || c > 0x7e) malformed('non-printable text')
  return String.fromCharCode(...b)
}

/** Encodes a request (SYNC-5). Throws on arguments no decoder would accept (a caller bug). */
export function encodeRequest(msg: SyncRequest): Uint8Array {
  switch (msg.type) {
    case 'summaryReq':
      return sized(3 + msg.article.length, (w) =>
        w.u8(MsgType.SUMMARY_REQ).u8(msg.bits).u8(msg.article.length).bytes(ascii(msg.article))
      )
    case 'getBuckets':
    case 'getIds': {
      return sized(3 + 2 * msg.buckets.length, (w) => {
        w.u8(msg.type === 'getBuckets' ? MsgType.GET_BUCKETS : MsgType.GET_IDS).u16(msg.buckets.length)
        for (const b of msg.buckets) w.u16(b)
      })
    }
    case 'getBids': {
      return sized(3 + ID_BYTES * msg.ids.length, (w) => {
        w.u8(MsgType.GET_BIDS).u16(msg.ids.length)
        for (const id of msg.ids) w.bytes(checkId(id))
      })
    }
    case 'getSnapshot':
      return sized(2 + msg.key.length, (w) =>
        w.u8(MsgType.GET_SNAPSHOT).u8(msg.key.length).bytes(ascii(msg.key))
      )
    case 'timeReq':
      return Uint8Array.of(MsgType.TIME_REQ)
  }
}

/** Encodes a response (SYNC-6, SYNC-7). */
export function encodeResponse(msg: SyncResponse): Uint8Array {
  switch (msg.type) {
    case 'summary': {
      const n = 2 ** msg.bits
      if (msg.counts.length !== n || msg.digests.length !== n * BUCKET_DIGEST_BYTES)
        throw new Error('codec bug: summary size')
      return sized(6 + n * SUMMARY_ENTRY_BYTES, (w) => {
        w.u8(MsgType.SUMMARY).u8(msg.bits).u32(msg.total)
        for (let i = 0; i < n; i++)
          w.u32(msg.counts[i] as number).bytes(
            msg.digests.subarray(i * BUCKET_DIGEST_BYTES, (i + 1) * BUCKET_DIGEST_BYTES)
          )
      })
    }
    case 'bids': {
      let size = 3
      for (const b of msg.bids) size += 2 + b.length
      return sized(size, (w) => {
        w.u8(MsgType.BIDS).u16(msg.bids.length)
        for (const b of msg.bids) w.prefixed(b, 'u16')
      })
    }
    case 'ids': {
      return sized(3 + ID_BYTES * msg.ids.length, (w) => {
        w.u8(MsgType.IDS).u16(msg.ids.length)
        for (const id of msg.ids) w.bytes(checkId(id))
      })
    }
    case 'done':
      return Uint8Array.of(MsgType.DONE)
    case 'snapshot': {
      const h = msg.header
      if (h === undefined) return Uint8Array.of(MsgType.SNAPSHOT, 0)
      return sized(2 + 8 + 32 + 4, (w) =>
        w
          .u8(MsgType.SNAPSHOT)
          .u8(1)
          .u64(h.closedEpoch + 1)
          .bytes(checkId(h.digest))
          .u32(h.count)
      )
    }
    case 'time':
      if (!Number.isSafeInteger(msg.nowMs) || msg.nowMs < 0) throw new Error('codec bug: time')
      return sized(9, (w) => w.u8(MsgType.TIME).u64(msg.nowMs))
    case 'error':
      return sized(2 + msg.code.length, (w) => w.u8(MsgType.ERROR).u8(msg.code.length).bytes(ascii(msg.code)))
  }
}

function checkId(id: Uint8Array): Uint8Array {
  if (id.length !== ID_BYTES) throw new Error('codec bug: id is not 32 bytes')
  return id
}

/** Decodes a request body (SYNC-5); throws `SYNC_MALFORMED` or `SYNC_TOO_MANY`. */
export function decodeRequest(body: Uint8Array, limits: SyncLimits): SyncRequest {
  if (!(body instanceof Uint8Array) || body.length === 0) malformed('empty body')
  const r = reader(body)
  let msg: SyncRequest
  switch (body[0]) {
    case MsgType.SUMMARY_REQ: {
      const bits = r.u8()
      if (bits > limits.maxBucketBits) malformed('bucket bits above the limit')
      const article = readAscii(r, r.u8())
      // [SYNC-5] the article must be a valid article name (ART-1 … ART-4)
      if (!isArticle(article)) malformed('not an article')
      msg = { type: 'summaryReq', article, bits }
      break
    }
    case MsgType.GET_BUCKETS:
    case MsgType.GET_IDS: {
      const n = r.u16()
      if (n === 0) malformed('no buckets')
      if (n > 2 ** limits.maxBucketBits) tooMany('buckets', n)
      r.need(2 * n)
      const buckets: number[] = []
      for (let i = 0; i < n; i++) {
        const b = r.u16()
        // strictly ascending: no duplicates, one canonical encoding
        if (i > 0 && b <= (buckets[i - 1] as number)) malformed('buckets not ascending')
        buckets.push(b)
      }
      msg = { type: body[0] === MsgType.GET_BUCKETS ? 'getBuckets' : 'getIds', buckets }
      break
    }
    case MsgType.GET_BIDS: {
      const n = r.u16()
      if (n === 0) malformed('no ids')
      if (n > limits.maxIdsPerFrame) tooMany('ids', n)
      msg = { type: 'getBids', ids: readIds(r, n) }
      break
    }
    case MsgType.GET_SNAPSHOT: {
      const n = r.u8()
      if (n === 0 || n > MAX_KEY_LENGTH) malformed('bad key length')
      msg = { type: 'getSnapshot', key: readAscii(r, n) }
      break
    }
    case MsgType.TIME_REQ:
      msg = { type: 'timeReq' }
      break
    default:
      malformed('unknown request type')
  }
  r.end()
  return msg
}

/** Decodes a response body (SYNC-6, SYNC-7); throws `SYNC_MALFORMED` or `SYNC_TOO_MANY`. */
export function decodeResponse(body: Uint8Array, limits: SyncLimits): SyncResponse {
  if (!(body instanceof Uint8Array) || body.length === 0) malformed('empty body')
  const r = reader(body)
  let msg: SyncResponse
  switch (body[0]) {
    case MsgType.SUMMARY: {
      const bits = r.u8()
      if (bits > limits.maxBucketBits) malformed('bucket bits above the limit')
      const total = r.u32()
      const n = 2 ** bits
      r.need(n * SUMMARY_ENTRY_BYTES)
      const counts: number[] = []
      const digests = new Uint8Array(n * BUCKET_DIGEST_BYTES)
      let sum = 0
      for (let i = 0; i < n; i++) {
        const c = r.u32()
        counts.push(c)
        sum += c
        digests.set(r.bytes(BUCKET_DIGEST_BYTES), i * BUCKET_DIGEST_BYTES)
      }
      // [SYNC-6] counts must add up to the total
      if (sum !== total) malformed('bucket counts do not add up')
      msg = { type: 'summary', bits, total, counts, digests }
      break
    }
    case MsgType.BIDS: {
      const n = r.u16()
      if (n === 0) malformed('empty BIDS')
      if (n > limits.maxBidsPerFrame) tooMany('bids', n)
      const bids: Uint8Array[] = []
      for (let i = 0; i < n; i++) {
        const len = r.u16()
        if (len === 0 || len > BID_MAX_ENCODED_BYTES) malformed('bad bid length')
        bids.push(copy(r, len))
      }
      msg = { type: 'bids', bids }
      break
    }
    case MsgType.IDS: {
      const n = r.u16()
      if (n === 0) malformed('empty IDS')
      if (n > limits.maxIdsPerFrame) tooMany('ids', n)
      msg = { type: 'ids', ids: readIds(r, n) }
      break
    }
    case MsgType.DONE:
      msg = { type: 'done' }
      break
    case MsgType.SNAPSHOT: {
      const present = r.u8()
      if (present === 0) {
        msg = { type: 'snapshot', header: undefined }
        break
      }
      if (present !== 1) malformed('bad snapshot flag')
      const closedEpoch = r.u64() - 1
      const digest = copy(r, 32)
      const count = r.u32()
      if (count > limits.maxSnapshotBids) tooMany('snapshot bids', count)
      msg = { type: 'snapshot', header: { closedEpoch, digest, count } }
      break
    }
    case MsgType.TIME:
      msg = { type: 'time', nowMs: r.u64() }
      break
    case MsgType.ERROR: {
      const n = r.u8()
      if (n === 0 || n > MAX_CODE_LENGTH) malformed('bad code length')
      const code = readAscii(r, n)
      if (!/^[A-Z][A-Z0-9_]*$/.test(code)) malformed('bad error code')
      msg = { type: 'error', code }
      break
    }
    default:
      malformed('unknown response type')
  }
  r.end()
  return msg
}

/** Reads `n` ids, which must be strictly ascending (canonical, no duplicates). */
function readIds(r: ByteReader, n: number): Uint8Array[] {
  r.need(n * ID_BYTES)
  const ids: Uint8Array[] = []
  for (let i = 0; i < n; i++) {
    const id = copy(r, ID_BYTES)
    if (i > 0 && compare(ids[i - 1] as Uint8Array, id) >= 0) malformed('ids not ascending')
    ids.push(id)
  }
  return ids
}

function tooMany(what: string, n: number): never {
  return syncError(SyncCode.TOO_MANY, `too many ${what}`, { count: n })
}
