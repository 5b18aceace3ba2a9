import type { MatchableBid } from './types.js'

/** Lifecycle states of a bid inside a book (MATCH-14). */
export const BidState = {
  /** Waiting for its epoch to be matched. */
  PENDING: 0,
  /** Unmatched after its epoch; waits in the book for a later bid. */
  RESTING: 1,
  /** Paired in a match. Terminal. */
  MATCHED: 2,
  /** Dropped because it expired (MATCH-6). Terminal. */
  EXPIRED: 3,
  /** Removed by a cancel (MATCH-10). Terminal. */
  CANCELLED: 4
} as const

/** Largest integer a double holds exactly; below it a price compares as a number. */
const MAX_SAFE = Number.MAX_SAFE_INTEGER

/**
 * A bid as the book holds it: the fields the hot loop compares, copied out of the bid into one
 * object shape, plus its state for lazy deletion from the heaps.
 */
export class Entry {
  /** The bid as given. */
  readonly bid: MatchableBid
  /** Bid id (64 lowercase hex; string order equals byte order). */
  readonly id: string
  /** True for a BUY. */
  readonly buy: boolean
  /** Exact price. */
  readonly price: bigint
  /**
   * `Number(price)`: exact up to 2^53, and monotone above, so comparing `pn` first is exact
   * whenever the two differ; only equal `pn` above 2^53 falls back to the bigint.
   */
  readonly pn: number
  /** Creation time in ms. */
  readonly createdMs: number
  /** Expiry time in ms. */
  readonly expiresMs: number
  /** Bidder. */
  readonly participant: string
  /** Epoch of `createdMs`. */
  readonly epoch: number
  /** One of {@link BidState}. */
  state: number = BidState.PENDING

  /** Wraps a checked bid of epoch `epoch`. */
  constructor(bid: MatchableBid, epoch: number) {
    this.bid = bid
    this.id = bid.id
    this.buy = bid.side === 'BUY'
    this.price = bid.price
    this.pn = Number(bid.price)
    this.createdMs = bid.createdMs
    this.expiresMs = bid.expiresMs
    this.participant = bid.participant
    this.epoch = epoch
  }
}

/** Canonical order (MATCH-5): earlier `createdMs` first, then smaller id. */
export function canonicalBefore(a: Entry, b: Entry): boolean {
  if (a.createdMs !== b.createdMs) return a.createdMs < b.createdMs
  return a.id < b.id
}

/** Canonical order as a sort comparator. */
export function canonicalCompare(a: Entry, b: Entry): number {
  if (a.createdMs !== b.createdMs) return a.createdMs - b.createdMs
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}

/** Priority of resting BUYs (MATCH-7): higher price first, then canonical order. */
export function buyBefore(a: Entry, b: Entry): boolean {
  if (a.pn !== b.pn) return a.pn > b.pn
  if (a.pn > MAX_SAFE && a.price !== b.price) return a.price > b.price
  return canonicalBefore(a, b)
}

/** Priority of resting SELLs (MATCH-7): lower price first, then canonical order. */
export function sellBefore(a: Entry, b: Entry): boolean {
  if (a.pn !== b.pn) return a.pn < b.pn
  if (a.pn > MAX_SAFE && a.price !== b.price) return a.price < b.price
  return canonicalBefore(a, b)
}

/** Order of the expiry queue: earlier `expiresMs` first, then smaller id. */
export function expiryBefore(a: Entry, b: Entry): boolean {
  if (a.expiresMs !== b.expiresMs) return a.expiresMs < b.expiresMs
  return a.id < b.id
}

/** Price rule (MATCH-8): a BUY and a SELL can trade when `buy.price ≥ sell.price`. */
export function crosses(buy: Entry, sell: Entry): boolean {
  if (buy.pn !== sell.pn) return buy.pn > sell.pn
  return buy.pn <= MAX_SAFE || buy.price >= sell.price
}
