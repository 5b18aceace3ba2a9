import { BitwrkError } from '../errors.js'
import { chainDigest, GENESIS_DIGEST, matchKeyBytes } from './digest.js'
import {
  checkEpochParams,
  epochClosesAtMs,
  epochEndMs,
  epochOf,
  expiryEpochOf,
  lastClosedEpoch
} from './epoch.js'
import { EpochIndex } from './epoch-index.js'
import { Heap } from './heap.js'
import { BidState, buyBefore, canonicalCompare, crosses, Entry, expiryBefore, sellBefore } from './order.js'
import {
  type AddResult,
  type BookSnapshot,
  type EpochParams,
  type EpochResult,
  type Match,
  type MatchableBid,
  type MatchableCancel,
  MatchCode,
  type Side
} from './types.js'

const BID_ID = /^[0-9a-f]{64}$/
/** Prices are the original's int64 (bitwrk-original.md §2.2) and encode as u64 (MATCH-13). */
const PRICE_LIMIT = 1n << 63n
const PRICE_LIMIT_NUMBER = 2 ** 63
/** Compact a heap once it holds more dead than live entries, but not for tiny heaps. */
const COMPACT_MIN_DEAD = 1024

const ACCEPT: AddResult = Object.freeze({ result: 'accept' })
const LATE: AddResult = Object.freeze({ result: 'ignore', code: MatchCode.LATE })
const DUPLICATE: AddResult = Object.freeze({ result: 'ignore', code: MatchCode.DUPLICATE })

function badBid(field: string, id: unknown): never {
  throw new BitwrkError(MatchCode.BAD_BID, `matchable bid has a bad ${field}`, { field, id })
}

function isTime(ms: unknown): ms is number {
  return typeof ms === 'number' && Number.isSafeInteger(ms) && ms >= 0
}

/** Checks a bid against MATCH-3; throws `MATCH_BAD_BID` (bids are validated before matching). */
export function checkMatchableBid(bid: MatchableBid): MatchableBid {
  if (typeof bid.id !== 'string' || !BID_ID.test(bid.id)) badBid('id', bid.id)
  if (bid.side !== 'BUY' && bid.side !== 'SELL') badBid('side', bid.id)
  // Number() first: exact below 2^53 and monotone above, so only prices near 2^63 need bigint math.
  const pn = typeof bid.price === 'bigint' ? Number(bid.price) : Number.NaN
  if (!(pn >= 0 && (pn < PRICE_LIMIT_NUMBER || (bid.price as bigint) < PRICE_LIMIT))) badBid('price', bid.id)
  if (!isTime(bid.createdMs)) badBid('createdMs', bid.id)
  if (!isTime(bid.expiresMs)) badBid('expiresMs', bid.id)
  if (typeof bid.participant !== 'string' || bid.participant.length === 0) badBid('participant', bid.id)
  return bid
}

/**
 * The order book of one match key (`<article>:<currency>`, MATCH-3) with deterministic epoch
 * matching (protocol/spec/matching.md). Feed it valid bids with {@link add} and cancels with
 * {@link cancel} as they arrive, call {@link advance} with the clock; every node that fed the
 * same bids and cancels gets byte-identical {@link EpochResult}s, whatever the arrival order.
 */
export class OrderBook {
  /** Match key of this book. */
  readonly key: string
  /** Epoch parameters. */
  readonly params: EpochParams
  private readonly keyBytes: Uint8Array
  /** Pending and resting bids by (epoch, id). */
  private readonly index = new EpochIndex()
  /** Epochs (not yet matched) that have pending bids. */
  private readonly pendingEpochs = new Set<number>()
  /** Pending cancels per epoch, by `bidId:bidCreatedMs`. */
  private readonly cancels = new Map<number, Map<string, MatchableCancel>>()
  private readonly buys = new Heap<Entry>(buyBefore)
  private readonly sells = new Heap<Entry>(sellBefore)
  private readonly expiries = new Heap<Entry>(expiryBefore)
  private deadBuys = 0
  private deadSells = 0
  private deadExpiries = 0
  private restingBuys = 0
  private restingSells = 0
  private pendingBids = 0
  private closed = -1
  private chain = GENESIS_DIGEST

  /** Creates an empty book; throws `MATCH_BAD_PARAMS` for a bad key or parameters. */
  constructor(key: string, params: Partial<EpochParams> = {}) {
    this.key = key
    this.keyBytes = matchKeyBytes(key)
    this.params = checkEpochParams(params)
  }

  /**
   * Rebuilds a book from a snapshot (MATCH-16), e.g. pulled by a late joiner from a peer (whose
   * bids the caller has verified) or persisted before a restart. Throws `MATCH_BAD_SNAPSHOT`
   * when it is inconsistent and `MATCH_BAD_BID` for a malformed bid.
   */
  static fromSnapshot(snapshot: BookSnapshot, params: Partial<EpochParams> = {}): OrderBook {
    const book = new OrderBook(snapshot.key, params)
    const bad = (why: string): never => {
      throw new BitwrkError(MatchCode.BAD_SNAPSHOT, `book snapshot ${why}`, { key: snapshot.key })
    }
    const closed = snapshot.closedEpoch
    if (!Number.isSafeInteger(closed) || closed < -1) bad('has a bad closedEpoch')
    if (typeof snapshot.digest !== 'string' || !BID_ID.test(snapshot.digest)) bad('has a bad digest')
    book.closed = closed
    book.chain = snapshot.digest
    const endMs = epochEndMs(closed, book.params)
    for (const bid of snapshot.resting) {
      checkMatchableBid(bid)
      const epoch = epochOf(bid.createdMs, book.params)
      if (epoch > closed) bad('holds a bid of an open epoch')
      if (bid.expiresMs <= endMs) bad('holds an expired bid')
      const entry = new Entry(bid, epoch)
      if (!book.index.insert(entry)) bad('holds a bid twice')
      book.rest(entry)
    }
    if (book.crossed()) bad('is crossed (MATCH-9)')
    return book
  }

  /** The state after the last matched epoch (MATCH-16); O(n log n). */
  snapshot(): BookSnapshot {
    return {
      key: this.key,
      closedEpoch: this.closed,
      digest: this.chain,
      resting: [...this.resting('BUY'), ...this.resting('SELL')]
    }
  }

  /** Chained digest after the last matched epoch (MATCH-13), lowercase hex. */
  get digest(): string {
    return this.chain
  }

  /** The last epoch that has been matched (-1 before the first). */
  get closedEpoch(): number {
    return this.closed
  }

  /** Number of resting bids. */
  get restingCount(): number {
    return this.restingBuys + this.restingSells
  }

  /** Number of bids waiting for their epoch. */
  get pendingCount(): number {
    return this.pendingBids
  }

  /**
   * Offers a valid bid that arrived at `nowMs`. Ignores it with `MATCH_LATE` when its epoch is
   * closed (do not forward it, MATCH-4; this covers every copy of a resting or matched bid) and
   * with `MATCH_DUPLICATE` when it is already pending. Throws `MATCH_BAD_BID` for a bid that
   * breaks MATCH-3 and `MATCH_BAD_PARAMS` for a clock that is not a finite number.
   */
  add(bid: MatchableBid, nowMs: number): AddResult {
    checkMatchableBid(bid)
    if (!Number.isFinite(nowMs))
      throw new BitwrkError(MatchCode.BAD_PARAMS, 'nowMs must be a finite number', { nowMs })
    const epoch = epochOf(bid.createdMs, this.params)
    if (epoch <= this.closed || nowMs >= epochClosesAtMs(epoch, this.params)) return LATE
    // Any copy of a resting or matched bid is late, so a duplicate can only be pending.
    if (!this.index.insert(new Entry(bid, epoch))) return DUPLICATE
    this.pendingEpochs.add(epoch)
    this.pendingBids++
    return ACCEPT
  }

  /**
   * Offers a cancel that arrived at `nowMs` (MATCH-10). It takes effect when the cancel's epoch
   * is matched. Ignored with `MATCH_LATE` or `MATCH_DUPLICATE` like a bid; throws
   * `MATCH_BAD_BID` for a malformed cancel.
   */
  cancel(cancel: MatchableCancel, nowMs: number): AddResult {
    const { bidId, bidCreatedMs, createdMs } = cancel
    if (typeof bidId !== 'string' || !BID_ID.test(bidId)) badBid('id', bidId)
    if (!isTime(bidCreatedMs)) badBid('bidCreatedMs', bidId)
    if (!isTime(createdMs)) badBid('createdMs', bidId)
    if (!Number.isFinite(nowMs))
      throw new BitwrkError(MatchCode.BAD_PARAMS, 'nowMs must be a finite number', { nowMs })
    const epoch = epochOf(createdMs, this.params)
    if (epoch <= this.closed || nowMs >= epochClosesAtMs(epoch, this.params)) return LATE
    // Keyed by target and its time: two cancels naming different times must not shadow each other.
    const key = `${bidId}:${bidCreatedMs}`
    let queued = this.cancels.get(epoch)
    if (queued === undefined) {
      queued = new Map()
      this.cancels.set(epoch, queued)
    } else if (queued.has(key)) return DUPLICATE
    queued.set(key, cancel)
    return ACCEPT
  }

  /** State of the bid `bidId` created at `createdMs`; undefined for unknown or terminal bids. */
  status(bidId: string, createdMs: number): 'pending' | 'resting' | undefined {
    const e = this.index.get(epochOf(createdMs, this.params), bidId)
    if (e?.state === BidState.RESTING) return 'resting'
    if (e?.state === BidState.PENDING) return 'pending'
    return undefined
  }

  /** The best resting bid of a side (MATCH-7), or undefined. */
  best(side: Side): MatchableBid | undefined {
    return side === 'BUY' ? this.cleanTop(this.buys, true)?.bid : this.cleanTop(this.sells, false)?.bid
  }

  /** All resting bids of a side, best first (O(n log n): for sync and display, not per bid). */
  resting(side: Side): MatchableBid[] {
    const heap = side === 'BUY' ? this.buys : this.sells
    const before = side === 'BUY' ? buyBefore : sellBefore
    return heap
      .toArray()
      .filter((e) => e.state === BidState.RESTING)
      .sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0))
      .map((e) => e.bid)
  }

  /**
   * Clock time at which {@link advance} next has work (a pending epoch closes or a resting bid
   * expires), or undefined when the book is idle. For the node's timer.
   */
  nextWorkAtMs(): number | undefined {
    const e = this.nextEventEpoch()
    return e === undefined ? undefined : epochClosesAtMs(e, this.params)
  }

  /**
   * Matches every epoch that may be matched at `nowMs` (MATCH-2) in increasing order and
   * returns the results of the epochs in which something happened (MATCH-12).
   */
  advance(nowMs: number): EpochResult[] {
    // A NaN clock would compare false everywhere and match every pending epoch at once.
    if (!Number.isFinite(nowMs))
      throw new BitwrkError(MatchCode.BAD_PARAMS, 'nowMs must be a finite number', { nowMs })
    const last = lastClosedEpoch(nowMs, this.params)
    const out: EpochResult[] = []
    if (last <= this.closed) return out
    for (;;) {
      const e = this.nextEventEpoch()
      if (e === undefined || e > last) break
      out.push(this.matchEpoch(e))
      this.closed = e
    }
    this.closed = last
    this.compact()
    return out
  }

  /** True when a resting BUY and SELL of different participants cross (never after an epoch). O(n). */
  private crossed(): boolean {
    // Cheapest SELL, and cheapest SELL of a participant other than the cheapest one's.
    let s1: Entry | undefined
    let s2: Entry | undefined
    for (const s of this.sells.toArray()) {
      if (s.state !== BidState.RESTING) continue
      if (!s1 || sellBefore(s, s1)) {
        if (s1 && s1.participant !== s.participant) s2 = s1
        s1 = s
      } else if (s.participant !== s1.participant && (!s2 || sellBefore(s, s2))) s2 = s
    }
    for (const b of this.buys.toArray()) {
      if (b.state !== BidState.RESTING) continue
      const other = s1 && s1.participant !== b.participant ? s1 : s2
      if (other && crosses(b, other)) return true
    }
    return false
  }

  /** Smallest epoch > closed with a pending bid or cancel, or an expiring resting bid. */
  private nextEventEpoch(): number | undefined {
    let next: number | undefined
    for (const e of this.pendingEpochs) if (next === undefined || e < next) next = e
    for (const e of this.cancels.keys()) if (next === undefined || e < next) next = e
    const top = this.cleanExpiryTop()
    if (top) {
      const e = Math.max(expiryEpochOf(top.expiresMs, this.params), this.closed + 1)
      if (next === undefined || e < next) next = e
    }
    return next
  }

  private matchEpoch(epoch: number): EpochResult {
    const endMs = epochEndMs(epoch, this.params)
    const cancelled: string[] = []
    const expired: string[] = []
    const rested: string[] = []
    const matches: Match[] = []

    // Taken before cancels apply: a cancelled pending bid is skipped below by its state.
    const incoming = this.pendingEpochs.delete(epoch) ? this.index.entries(epoch) : undefined

    // MATCH-10: cancels first, so a bid cancelled and expiring in one epoch counts as cancelled.
    const queued = this.cancels.get(epoch)
    if (queued) {
      this.cancels.delete(epoch)
      for (const c of queued.values()) {
        const targetEpoch = epochOf(c.bidCreatedMs, this.params)
        // A target of a later epoch is unaffected; earlier ones are resting or terminal by now.
        const e = targetEpoch > epoch ? undefined : this.index.get(targetEpoch, c.bidId)
        if (!e || e.createdMs !== c.bidCreatedMs) continue
        if (e.state === BidState.RESTING) this.removeResting(e)
        else if (e.state === BidState.PENDING) this.pendingBids--
        else continue
        this.finish(e, BidState.CANCELLED)
        cancelled.push(e.id)
      }
    }

    // MATCH-6: resting bids no longer live in this epoch leave before matching.
    for (let top = this.cleanExpiryTop(); top && top.expiresMs <= endMs; top = this.cleanExpiryTop()) {
      this.expiries.pop()
      this.removeResting(top)
      this.deadExpiries-- // removeResting counted it dead in the expiry heap, but it is gone
      this.finish(top, BidState.EXPIRED)
      expired.push(top.id)
    }

    if (incoming) {
      // MATCH-5: canonical order, whatever the arrival order was.
      const ordered = incoming.sort(canonicalCompare)
      for (const b of ordered) {
        if (b.state === BidState.CANCELLED) continue
        this.pendingBids--
        if (b.expiresMs <= endMs) {
          this.finish(b, BidState.EXPIRED)
          expired.push(b.id)
          continue
        }
        const other = this.takeCounterpart(b)
        if (other) {
          const buy = b.buy ? b : other
          const sell = b.buy ? other : b
          matches.push({
            epoch,
            // MATCH-12: the match time is when the epoch may be matched, not its end
            matchedMs: epochClosesAtMs(epoch, this.params),
            seq: matches.length,
            buyId: buy.id,
            sellId: sell.id,
            buyer: buy.participant,
            seller: sell.participant,
            price: other.price,
            maker: other.buy ? 'BUY' : 'SELL'
          })
          this.finish(b, BidState.MATCHED)
          this.finish(other, BidState.MATCHED)
        } else this.rest(b)
      }
      // Only what is still resting at the epoch's end: a bid may rest, then be taken in the same epoch.
      for (const b of ordered) if (b.state === BidState.RESTING) rested.push(b.id)
    }

    expired.sort()
    cancelled.sort()
    rested.sort()
    this.chain = chainDigest(this.chain, this.keyBytes, epoch, matches)
    return { key: this.key, epoch, matches, expired, cancelled, rested, digest: this.chain }
  }

  /**
   * MATCH-7/8/9: pops the best resting counterpart of `b` that crosses it and belongs to another
   * participant; own bids met on the way are put back untouched.
   */
  private takeCounterpart(b: Entry): Entry | undefined {
    const heap = b.buy ? this.sells : this.buys
    let skipped: Entry[] | undefined
    let found: Entry | undefined
    for (;;) {
      const top = this.cleanTop(heap, !b.buy)
      if (!top) break
      if (!(b.buy ? crosses(b, top) : crosses(top, b))) break
      heap.pop()
      if (top.participant === b.participant) {
        if (skipped) skipped.push(top)
        else skipped = [top]
        continue
      }
      found = top
      break
    }
    if (skipped) for (const s of skipped) heap.push(s)
    if (found) {
      if (found.buy) this.restingBuys--
      else this.restingSells--
      this.deadExpiries++
    }
    return found
  }

  private rest(b: Entry): void {
    b.state = BidState.RESTING
    if (b.buy) {
      this.buys.push(b)
      this.restingBuys++
    } else {
      this.sells.push(b)
      this.restingSells++
    }
    this.expiries.push(b)
  }

  /** Moves a pending or resting bid to a terminal state (heap bookkeeping is the caller's). */
  private finish(e: Entry, state: number): void {
    e.state = state
    this.index.release(e)
  }

  /** Marks a resting bid's heap slots dead (the caller sets the terminal state). */
  private removeResting(e: Entry): void {
    if (e.buy) {
      this.restingBuys--
      this.deadBuys++
    } else {
      this.restingSells--
      this.deadSells++
    }
    this.deadExpiries++
  }

  /** Top live entry of a price heap, popping dead ones. */
  private cleanTop(heap: Heap<Entry>, buys: boolean): Entry | undefined {
    let top = heap.peek()
    while (top !== undefined && top.state !== BidState.RESTING) {
      heap.pop()
      if (buys) this.deadBuys--
      else this.deadSells--
      top = heap.peek()
    }
    return top
  }

  private cleanExpiryTop(): Entry | undefined {
    let top = this.expiries.peek()
    while (top !== undefined && top.state !== BidState.RESTING) {
      this.expiries.pop()
      this.deadExpiries--
      top = this.expiries.peek()
    }
    return top
  }

  /** Drops dead entries from a heap once they outnumber the live ones (amortised O(1) per bid). */
  private compact(): void {
    const alive = (e: Entry): boolean => e.state === BidState.RESTING
    if (this.deadBuys > COMPACT_MIN_DEAD && this.deadBuys > this.restingBuys) {
      this.buys.retain(alive)
      this.deadBuys = 0
    }
    if (this.deadSells > COMPACT_MIN_DEAD && this.deadSells > this.restingSells) {
      this.sells.retain(alive)
      this.deadSells = 0
    }
    if (this.deadExpiries > COMPACT_MIN_DEAD && this.deadExpiries > this.restingCount) {
      this.expiries.retain(alive)
      this.deadExpiries = 0
    }
  }
}
