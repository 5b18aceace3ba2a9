/**
 * Own bids (README.md buckets `bid`, `bidExpiry`, `bidUsed`): the signed wire bytes with the
 * index fields, live listing, pruning, and the "used" marks that keep the node from ever
 * signing establishing messages for two transactions with one bid (DESIGN.md invariant 5).
 */
import { isArticle } from '../../protocol/article/index.js'
import { isTxid, MAX_TRANSACTION_LIFE_MS } from '../../protocol/transaction/index.js'
import { check, concat, decodeSealed, fromUtf8, readU64, seal, u64Bytes, utf8, Writer } from './codec.js'
import { Bucket, type KvController, type KvOp, Mutex, prefixRange } from './db.js'
import { faultOf, type Listing, StoreCode, storeError } from './errors.js'

/** Largest signed bid stored, in bytes (4× the bid codec's 1024-byte limit, BID_MAX_ENCODED_BYTES). */
export const MAX_STORED_BID_BYTES = 4096

/** Bid ids (as TX-1 accepts them): printable, no separator bytes, 1..128 characters. */
const BID_ID = /^[0-9A-Za-z_.~-]{1,128}$/

/**
 * How long a used mark outlives its bid's expiry before pruning: the longest transaction life
 * (TX-13, 23 min), so a match of the bid that is still being established cannot meet an
 * erased mark.
 */
export const USED_MARK_RETENTION_MS = MAX_TRANSACTION_LIFE_MS

/** Side of a bid. */
export type BidSide = 'buy' | 'sell'

/** One own bid as stored: its signed bytes plus the fields the store indexes. */
export interface StoredBid {
  /** The bid id (BID-19: hex SHA-256 of the document). */
  readonly id: string
  /** The article bid on. */
  readonly article: string
  /** Buy or sell. */
  readonly side: BidSide
  /** Expiry, ms since the epoch; the bid is live while nowMs < expiresMs. */
  readonly expiresMs: number
  /** The signed wire bytes, exactly as gossiped. */
  readonly bytes: Uint8Array
}

/** A used mark: the transaction the node signed an establishing message for with this bid. */
export interface UsedMark {
  /** The bid id. */
  readonly bidId: string
  /** The transaction id. */
  readonly txId: string
  /** The bid's expiry (for pruning). */
  readonly expiresMs: number
}

const SIDES: readonly BidSide[] = ['buy', 'sell']

/** Throws STORE_INVALID unless `bid` is well formed (caller bug: nothing is written). */
function checkBid(bid: StoredBid): void {
  const bad = (why: string): never => {
    throw storeError(StoreCode.INVALID, `invalid bid: ${why}`)
  }
  if (typeof bid.id !== 'string' || !BID_ID.test(bid.id)) bad('id')
  if (!isArticle(bid.article)) bad('article')
  if (!SIDES.includes(bid.side)) bad('side')
  if (!Number.isSafeInteger(bid.expiresMs) || bid.expiresMs < 0) bad('expiry')
  if (!(bid.bytes instanceof Uint8Array) || bid.bytes.length === 0 || bid.bytes.length > MAX_STORED_BID_BYTES)
    bad('bytes')
}

/** Key of a bid record. */
export function bidKey(id: string): Uint8Array {
  return concat(Uint8Array.of(Bucket.bid), utf8(id))
}

function expiryKey(expiresMs: number, id: string): Uint8Array {
  return concat(Uint8Array.of(Bucket.bidExpiry), u64Bytes(expiresMs), utf8(id))
}

/** Key of a used mark. */
export function usedKey(id: string): Uint8Array {
  return concat(Uint8Array.of(Bucket.bidUsed), utf8(id))
}

/** Payload of a bid record (README.md). */
export function encodeBid(bid: StoredBid): Uint8Array {
  return new Writer()
    .str(bid.id)
    .str(bid.article)
    .u8(SIDES.indexOf(bid.side))
    .u64(bid.expiresMs)
    .bytes(bid.bytes)
    .finish()
}

/** Decodes and validates a sealed bid record stored under `key` (STORE_CORRUPT otherwise). */
export function decodeBid(key: Uint8Array, value: Uint8Array): StoredBid {
  const bid = decodeSealed(key, value, (r) => {
    const id = r.str(128)
    const article = r.str(512)
    const side = SIDES[r.u8()]
    const expiresMs = r.u64()
    const bytes = r.bytes(MAX_STORED_BID_BYTES)
    check(side !== undefined, 'bad bid side')
    return { id, article, side, expiresMs, bytes }
  })
  check(BID_ID.test(bid.id) && fromUtf8(key.subarray(1)) === bid.id, 'bid id does not match its key')
  check(isArticle(bid.article), 'bad article')
  check(bid.bytes.length > 0, 'empty bid bytes')
  return Object.freeze(bid)
}

/** Payload of a used mark: the raw 32-byte transaction id and the bid expiry. */
export function encodeUsed(mark: UsedMark): Uint8Array {
  return concat(Buffer.from(mark.txId, 'hex'), u64Bytes(mark.expiresMs))
}

/** Decodes and validates a sealed used mark stored under `key`. */
export function decodeUsed(key: Uint8Array, value: Uint8Array): UsedMark {
  return decodeSealed(key, value, (r) => {
    const raw = new Uint8Array(32)
    for (let i = 0; i < 32; i++) raw[i] = r.u8()
    const expiresMs = r.u64()
    const bidId = fromUtf8(key.subarray(1))
    check(BID_ID.test(bidId), 'bad bid id in used key')
    return Object.freeze({ bidId, txId: Buffer.from(raw).toString('hex'), expiresMs })
  })
}

/** What {@link BidRepository.pruneExpired} removed. */
export interface BidPruneResult {
  /** Bids removed (expired at nowMs). */
  readonly bids: number
  /** Used marks removed (expired more than {@link USED_MARK_RETENTION_MS} ago). */
  readonly usedMarks: number
}

/** The repository of own bids. */
export class BidRepository {
  private readonly lock = new Mutex()

  constructor(private readonly kv: KvController) {}

  /**
   * Stores (or replaces) an own bid with its expiry index, atomically, without waiting for the
   * disk (MARKET-10): a bid must be published within its settle delay, and a queue of fsyncs (a
   * buyer placing 64 bids at once on a loaded machine) made every later one late. A bid lost to a
   * power failure costs at most a match that does not establish (MARKET-17); the used mark that
   * guards against signing twice (`markUsed`) is still written durably.
   */
  put(bid: StoredBid): Promise<void> {
    checkBid(bid)
    return this.lock.run(async () => {
      const key = bidKey(bid.id)
      const ops: KvOp[] = []
      const old = await this.kv.get(key)
      if (old !== undefined) {
        // A corrupt old record has an unknown index entry; the index scan reports it later.
        try {
          const prev = decodeBid(key, old)
          if (prev.expiresMs !== bid.expiresMs)
            ops.push({ type: 'del', key: expiryKey(prev.expiresMs, bid.id) })
        } catch {
          // Unreadable: keep going; the stale index entry is reported by listLive.
        }
      }
      ops.push({ type: 'put', key, value: seal(key, encodeBid(bid)) })
      ops.push({ type: 'put', key: expiryKey(bid.expiresMs, bid.id), value: new Uint8Array(0) })
      await this.kv.batch(ops)
    })
  }

  /** The bid with `id`, or undefined; STORE_CORRUPT when its record is unreadable. */
  async get(id: string): Promise<StoredBid | undefined> {
    const key = bidKey(id)
    const v = await this.kv.get(key)
    return v === undefined ? undefined : decodeBid(key, v)
  }

  /** Removes a bid (e.g. cancelled) and its expiry index; its used mark stays. */
  remove(id: string): Promise<boolean> {
    return this.lock.run(async () => {
      const key = bidKey(id)
      const v = await this.kv.get(key)
      if (v === undefined) return false
      const bid = decodeBid(key, v)
      await this.kv.batch([
        { type: 'del', key },
        { type: 'del', key: expiryKey(bid.expiresMs, id) }
      ])
      return true
    })
  }

  /** Bids live at `nowMs` (expiresMs > nowMs), by expiry; unreadable ones are reported. */
  async listLive(nowMs: number): Promise<Listing<StoredBid>> {
    const items: StoredBid[] = []
    const corrupt: Listing<StoredBid>['corrupt'] = []
    const range = prefixRange(Uint8Array.of(Bucket.bidExpiry))
    for await (const [k] of this.kv.entries({ gte: expiryKey(nowMs + 1, ''), lt: range.lt })) {
      try {
        const id = fromUtf8(k.subarray(9))
        const bid = await this.get(id)
        if (bid === undefined || bid.expiresMs !== readU64(k, 1))
          throw storeError(StoreCode.CORRUPT, 'expiry index entry without its bid')
        items.push(bid)
      } catch (err) {
        corrupt.push(faultOf('bidExpiry', k, err))
      }
    }
    return { items, corrupt }
  }

  /** Every stored bid record, in id order; unreadable ones are reported. */
  async list(): Promise<Listing<StoredBid>> {
    const items: StoredBid[] = []
    const corrupt: Listing<StoredBid>['corrupt'] = []
    for await (const [k, v] of this.kv.entries(prefixRange(Uint8Array.of(Bucket.bid)))) {
      try {
        items.push(decodeBid(k, v))
      } catch (err) {
        corrupt.push(faultOf('bid', k, err))
      }
    }
    return { items, corrupt }
  }

  /**
   * Removes bids expired at `nowMs` (expiresMs <= nowMs) and used marks whose bid expired at
   * least {@link USED_MARK_RETENTION_MS} ago. Unreadable used marks are kept (never drop
   * what might stop a double signature).
   */
  pruneExpired(nowMs: number): Promise<BidPruneResult> {
    return this.lock.run(async () => {
      const ops: KvOp[] = []
      let bids = 0
      let usedMarks = 0
      const expiry = prefixRange(Uint8Array.of(Bucket.bidExpiry))
      for await (const [k] of this.kv.entries({ gte: expiry.gte, lt: expiryKey(nowMs + 1, '') })) {
        ops.push({ type: 'del', key: k })
        const id = k.subarray(9)
        ops.push({ type: 'del', key: concat(Uint8Array.of(Bucket.bid), id) })
        bids++
      }
      for await (const [k, v] of this.kv.entries(prefixRange(Uint8Array.of(Bucket.bidUsed)))) {
        let mark: UsedMark
        try {
          mark = decodeUsed(k, v)
        } catch {
          continue
        }
        if (mark.expiresMs + USED_MARK_RETENTION_MS <= nowMs) {
          ops.push({ type: 'del', key: k })
          usedMarks++
        }
      }
      await this.kv.batch(ops)
      return { bids, usedMarks }
    })
  }

  /**
   * Marks bid `bidId` as used by transaction `txId`, durably, before the node signs its
   * establishing message. Idempotent for the same txId; refuses a different one with
   * STORE_BID_ALREADY_USED and a bid the store does not hold with STORE_BID_UNKNOWN. A corrupt
   * existing mark is STORE_CORRUPT (and the bid stays unusable).
   */
  markUsed(bidId: string, txId: string): Promise<UsedMark> {
    if (!BID_ID.test(bidId) || !isTxid(txId)) throw storeError(StoreCode.INVALID, 'invalid bid or tx id')
    return this.lock.run(async () => {
      const key = usedKey(bidId)
      const existing = await this.kv.get(key)
      if (existing !== undefined) {
        const mark = decodeUsed(key, existing)
        if (mark.txId === txId) return mark
        throw storeError(StoreCode.BID_ALREADY_USED, 'bid already used in another transaction', {
          bidId,
          txId: mark.txId
        })
      }
      const bid = await this.get(bidId)
      if (bid === undefined) throw storeError(StoreCode.BID_UNKNOWN, 'not an own bid', { bidId })
      const mark: UsedMark = Object.freeze({ bidId, txId, expiresMs: bid.expiresMs })
      await this.kv.batch([{ type: 'put', key, value: seal(key, encodeUsed(mark)) }], { sync: true })
      return mark
    })
  }

  /** The used mark of `bidId`, or undefined; STORE_CORRUPT when unreadable. */
  async usedBy(bidId: string): Promise<UsedMark | undefined> {
    const key = usedKey(bidId)
    const v = await this.kv.get(key)
    return v === undefined ? undefined : decodeUsed(key, v)
  }
}
