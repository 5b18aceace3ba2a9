/**
 * Types of the deterministic epoch matching engine (protocol/spec/matching.md). The engine is
 * independent of the bid codec: the node turns a validated, signed bid into a
 * {@link MatchableBid} and feeds it to the book of the bid's match key.
 */

/** Side of a bid: a BUY pays for a unit of work, a SELL offers to do it. */
export type Side = 'BUY' | 'SELL'

/** What the matching engine needs to know about one valid bid (MATCH-3). */
export interface MatchableBid {
  /** 64 lowercase hex characters: SHA-256 of the signed bid document. Unique per bid. */
  readonly id: string
  /** BUY or SELL. */
  readonly side: Side
  /** Limit price in the currency's smallest unit, `0 ≤ price < 2^63` (the original's int64). */
  readonly price: bigint
  /** Creation time, ms since the Unix epoch (non-negative safe integer). Fixes the bid's epoch. */
  readonly createdMs: number
  /** Expiry time, ms since the Unix epoch (non-negative safe integer). */
  readonly expiresMs: number
  /** The bidder's address; two bids of one participant never match each other (MATCH-9). */
  readonly participant: string
}

/** A cancel of a bid (MATCH-10); the caller has verified that the bid's participant signed it. */
export interface MatchableCancel {
  /** Id of the bid to cancel. */
  readonly bidId: string
  /** `createdMs` of the bid to cancel (the node takes it from the bid it holds). */
  readonly bidCreatedMs: number
  /** Creation time of the cancel: fixes the epoch in which it takes effect. */
  readonly createdMs: number
}

/** One trade proposal produced by matching (MATCH-8). */
export interface Match {
  /** Epoch in which the match was made. */
  readonly epoch: number
  /**
   * Match time, the same on every node: `closesAt(epoch) = end(epoch) + settleMs` (MATCH-2,
   * MATCH-12), the earliest time the epoch may be matched. The transaction's `matchedMs` is this
   * value (TX-2) and its establish deadline counts from it (TX-13).
   */
  readonly matchedMs: number
  /** Position of this match in its epoch's output, from 0. */
  readonly seq: number
  /** Id of the BUY bid. */
  readonly buyId: string
  /** Id of the SELL bid. */
  readonly sellId: string
  /** Participant of the BUY bid. */
  readonly buyer: string
  /** Participant of the SELL bid. */
  readonly seller: string
  /** Transaction price: the resting (earlier) bid's price (MATCH-8). */
  readonly price: bigint
  /** Side of the resting bid, whose price was taken ("maker"). */
  readonly maker: Side
}

/**
 * What the matching of one epoch of one book produced (MATCH-12). Emitted only for epochs in
 * which something happened: incoming bids or cancels, or resting bids expired.
 */
export interface EpochResult {
  /** Match key of the book (`<article>:<currency>`). */
  readonly key: string
  /** Epoch number. */
  readonly epoch: number
  /** Matches in processing order. */
  readonly matches: readonly Match[]
  /** Ids of the bids that expired in this epoch, ascending. */
  readonly expired: readonly string[]
  /** Ids of the bids cancelled in this epoch, ascending. */
  readonly cancelled: readonly string[]
  /** Ids of the bids of this epoch that did not match and now rest in the book, ascending. */
  readonly rested: readonly string[]
  /** Chained digest after this epoch, 64 lowercase hex characters (MATCH-13). */
  readonly digest: string
}

/**
 * A book's state after its last matched epoch (MATCH-16): what a late joiner pulls from a peer
 * and what a restarted node restores. Pending bids are not part of it: they are offered again.
 */
export interface BookSnapshot {
  /** Match key of the book. */
  readonly key: string
  /** The last matched epoch (-1 before the first). */
  readonly closedEpoch: number
  /** Chained digest after `closedEpoch`, 64 lowercase hex characters. */
  readonly digest: string
  /** The resting bids: BUYs then SELLs, each side in priority order (MATCH-7). */
  readonly resting: readonly MatchableBid[]
}

/** Epoch parameters (MATCH-1, MATCH-2). Every node of a network must use the same values. */
export interface EpochParams {
  /** Length of one epoch in ms (positive safe integer). */
  readonly epochMs: number
  /** Delay after an epoch's end before it may be matched, in ms (non-negative safe integer). */
  readonly settleMs: number
}

/**
 * Default epoch parameters. 1 s epochs keep the added latency of a trade small next to the
 * original's 1 s batching sleep (bitwrk-original.md §3); 1.5 s settle exceeds GossipSub's
 * propagation over a few hops at the default 1 s heartbeat (DESIGN.md §2 invariant 4).
 */
export const DEFAULT_EPOCH_PARAMS: EpochParams = Object.freeze({ epochMs: 1000, settleMs: 3000 })

/** Result of offering a bid or a cancel to a book. */
export type AddResult = { result: 'accept' } | { result: 'ignore'; code: MatchIgnoreCode }

/** Codes of the matching engine (BitwrkError codes and ignore codes). */
export const MatchCode = {
  /** The bid's (or cancel's) epoch is already closed: ignore it and do not forward (MATCH-4). */
  LATE: 'MATCH_LATE',
  /** A bid with this id is already pending or resting, or this cancel is already queued. */
  DUPLICATE: 'MATCH_DUPLICATE',
  /** Thrown: a bid object breaks MATCH-3 (a caller bug: bids are validated before matching). */
  BAD_BID: 'MATCH_BAD_BID',
  /** Thrown: epoch parameters or a match key are out of range. */
  BAD_PARAMS: 'MATCH_BAD_PARAMS',
  /** Thrown: a snapshot is inconsistent (crossed, duplicate ids, bids of open epochs or expired). */
  BAD_SNAPSHOT: 'MATCH_BAD_SNAPSHOT'
} as const

/** Union of the matching codes. */
export type MatchErrorCode = (typeof MatchCode)[keyof typeof MatchCode]

/** Codes with which {@link AddResult} ignores an input. */
export type MatchIgnoreCode = typeof MatchCode.LATE | typeof MatchCode.DUPLICATE
