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
  SUMMARY: 0x81,
  BIDS: 0x82,
  IDS: 0x83,
  DONE: 0x84,
  SNAPSHOT: 0x85,
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
  | { readonly type: 'error'; readonly code: string }

/** Any sync message. */
export type SyncMessage = SyncRequest | SyncResponse

class Writer {
  private readonly buf: Uint8Array
  private readonly view: DataView
  private off = 0
  constructor(size: number) {
    this.buf = new Uint8Array(size)
    this.view = new DataView(this.buf.buffer)
  }
  u8(v: number): this {
    this.view.setUint8(this.off, v)
    this.off += 1
    return this
  }
  u16(v: number): this {
    this.view.setUint16(this.off, v)
    this.off += 2
    return this
  }
  u32(v: number): this {
    this.view.setUint32(this.off, v)
    this.off += 4
    return this
  }
  u64(v: number): this {
    this.view.setBigUint64(this.off, BigInt(v))
    this.off += 8
    return this
  }
  bytes(b: Uint8Array): this {
    this.buf.set(b, this.off)
    this.off += b.length
    return this
  }
  ascii(s: string): this {
    for (let i = 0; i < s.length; i++) this.buf[this.off + i] = s.charCodeAt(i)
    this.off += s.length
    return this
  }
  done(): Uint8Array {
    if (this.off !== this.buf.length) throw new Error(`codec bug: wrote ${this.off} of ${this.buf.length}`)
    return this.buf
  }
}

function malformed(why: string): never {
  return syncError(SyncCode.MALFORMED, `malformed sync message: ${why}`)
}

class Reader {
  private readonly view: DataView
  private off = 1
  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  }
  need(n: number): void {
    if (this.buf.length - this.off < n) malformed('truncated')
  }
  u8(): number {
    this.need(1)
    return this.view.getUint8(this.off++)
  }
  u16(): number {
    this.need(2)
    const v = this.view.getUint16(this.off)
    this.off += 2
    return v
  }
  u32(): number {
    this.need(4)
    const v = this.view.getUint32(this.off)
    this.off += 4
    return v
  }
  u64(): number {
    this.need(8)
    const v = this.view.getBigUint64(this.off)
    this.off += 8
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) malformed('integer above 2^53 - 1')
    return Number(v)
  }
  bytes(n: number): Uint8Array {
    this.need(n)
    // a copy: frames are views into the reader's buffer, stored bids must not pin it
    const out = this.buf.slice(this.off, this.off + n)
    this.off += n
    return out
  }
  ascii(n: number): string {
    const b = this.bytes(n)
    for (const c of b) if (c < 0x21 || c > 0x7e) malformed('non-printable text')
    return String.fromCharCode(...b)
  }
  end(): void {
    if (this.off !== this.buf.length) malformed('trailing bytes')
  }
}

/** Encodes a request (SYNC-5). Throws on arguments no decoder would accept (a caller bug). */
export function encodeRequest(msg: SyncRequest): Uint8Array {
  switch (msg.type) {
    case 'summaryReq':
      return new Writer(3 + msg.article.length)
        .u8(MsgType.SUMMARY_REQ)
        .u8(msg.bits)
        .u8(msg.article.length)
        .ascii(msg.article)
        .done()
    case 'getBuckets':
    case 'getIds': {
      const w = new Writer(3 + 2 * msg.buckets.length)
        .u8(msg.type === 'getBuckets' ? MsgType.GET_BUCKETS : MsgType.GET_IDS)
        .u16(msg.buckets.length)
      for (const b of msg.buckets) w.u16(b)
      return w.done()
    }
    case 'getBids': {
      const w = new Writer(3 + ID_BYTES * msg.ids.length).u8(MsgType.GET_BIDS).u16(msg.ids.length)
      for (const id of msg.ids) w.bytes(checkId(id))
      return w.done()
    }
    case 'getSnapshot':
      return new Writer(2 + msg.key.length).u8(MsgType.GET_SNAPSHOT).u8(msg.key.length).ascii(msg.key).done()
  }
}

/** Encodes a response (SYNC-6, SYNC-7). */
export function encodeResponse(msg: SyncResponse): Uint8Array {
  switch (msg.type) {
    case 'summary': {
      const n = 2 ** msg.bits
      if (msg.counts.length !== n || msg.digests.length !== n * BUCKET_DIGEST_BYTES)
        throw new Error('codec bug: summary size')
      const w = new Writer(6 + n * SUMMARY_ENTRY_BYTES).u8(MsgType.SUMMARY).u8(msg.bits).u32(msg.total)
      for (let i = 0; i < n; i++)
        w.u32(msg.counts[i] as number).bytes(
          msg.digests.subarray(i * BUCKET_DIGEST_BYTES, (i + 1) * BUCKET_DIGEST_BYTES)
        )
      return w.done()
    }
    case 'bids': {
      let size = 3
      for (const b of msg.bids) size += 2 + b.length
      const w = new Writer(size).u8(MsgType.BIDS).u16(msg.bids.length)
      for (const b of msg.bids) w.u16(b.length).bytes(b)
      return w.done()
    }
    case 'ids': {
      const w = new Writer(3 + ID_BYTES * msg.ids.length).u8(MsgType.IDS).u16(msg.ids.length)
      for (const id of msg.ids) w.bytes(checkId(id))
      return w.done()
    }
    case 'done':
      return Uint8Array.of(MsgType.DONE)
    case 'snapshot': {
      const h = msg.header
      if (h === undefined) return Uint8Array.of(MsgType.SNAPSHOT, 0)
      return new Writer(2 + 8 + 32 + 4)
        .u8(MsgType.SNAPSHOT)
        .u8(1)
        .u64(h.closedEpoch + 1)
        .bytes(checkId(h.digest))
        .u32(h.count)
        .done()
    }
    case 'error':
      return new Writer(2 + msg.code.length).u8(MsgType.ERROR).u8(msg.code.length).ascii(msg.code).done()
  }
}

function checkId(id: Uint8Array): Uint8Array {
  if (id.length !== ID_BYTES) throw new Error('codec bug: id is not 32 bytes')
  return id
}

/** Decodes a request body (SYNC-5); throws `SYNC_MALFORMED` or `SYNC_TOO_MANY`. */
export function decodeRequest(body: Uint8Array, limits: SyncLimits): SyncRequest {
  if (!(body instanceof Uint8Array) || body.length === 0) malformed('empty body')
  const r = new Reader(body)
  let msg: SyncRequest
  switch (body[0]) {
    case MsgType.SUMMARY_REQ: {
      const bits = r.u8()
      if (bits > limits.maxBucketBits) malformed('bucket bits above the limit')
      const article = r.ascii(r.u8())
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
      msg = { type: 'getSnapshot', key: r.ascii(n) }
      break
    }
    default:
      malformed('unknown request type')
  }
  r.end()
  return msg
}

/** Decodes a response body (SYNC-6, SYNC-7); throws `SYNC_MALFORMED` or `SYNC_TOO_MANY`. */
export function decodeResponse(body: Uint8Array, limits: SyncLimits): SyncResponse {
  if (!(body instanceof Uint8Array) || body.length === 0) malformed('empty body')
  const r = new Reader(body)
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
        bids.push(r.bytes(len))
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
      const digest = r.bytes(32)
      const count = r.u32()
      if (count > limits.maxSnapshotBids) tooMany('snapshot bids', count)
      msg = { type: 'snapshot', header: { closedEpoch, digest, count } }
      break
    }
    case MsgType.ERROR: {
      const n = r.u8()
      if (n === 0 || n > MAX_CODE_LENGTH) malformed('bad code length')
      const code = r.ascii(n)
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
function readIds(r: Reader, n: number): Uint8Array[] {
  r.need(n * ID_BYTES)
  const ids: Uint8Array[] = []
  for (let i = 0; i < n; i++) {
    const id = r.bytes(ID_BYTES)
    if (i > 0 && compareBytes(ids[i - 1] as Uint8Array, id) >= 0) malformed('ids not ascending')
    ids.push(id)
  }
  return ids
}

function tooMany(what: string, n: number): never {
  return syncError(SyncCode.TOO_MANY, `too many ${what}`, { count: n })
}

/** Lexicographic comparison of byte strings. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number)
    if (d !== 0) return d
  }
  return a.length - b.length
}
