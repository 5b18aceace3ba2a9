import {
  type Bid,
  type Cancel,
  DEFAULT_MAX_CLOCK_SKEW_MS,
  type FeeRatio,
  validateBidTopicMessage
} from '../../protocol/bid/index.js'
import type { Network } from '../../protocol/identity/index.js'
import type { MessageValidator, ValidationResult } from './types.js'

/** GOSSIP-3: the protocol's default clock allowance (BID-15), re-exported for the node. */
export { DEFAULT_MAX_CLOCK_SKEW_MS }

/** Options of {@link bidTopicValidator}. */
export interface BidTopicValidatorOptions {
  /** Allowance for documents dated in the future, ms (BID-15, CANCEL-7). */
  maxClockSkewMs?: number
  /** Bids created longer ago than this are ignored (BID-16, the matcher's closed epochs). */
  lateCutoffMs?: number
  /** Network fee ratio for the price range check (BID-7). */
  feeRatio?: FeeRatio
  /** Address network of the market; default mainnet. */
  network?: Network
  /** True when a bid or cancel id was seen before (BID-17, CANCEL-9): e.g. the bid book. */
  isDuplicate?: (id: string) => boolean
  /** Called with every accepted bid (before GossipSub forwards it). */
  onBid?: (bid: Bid) => void
  /** Called with every accepted cancel. */
  onCancel?: (cancel: Cancel) => void
}

/**
 * A bid-topic validator without a book (GOSSIP-3): protocol/bid's `validateBidTopicMessage`, the
 * one validator the node's book also runs (MARKET-3), with the topic's article and the
 * validation time of the gossip context; accepted bids and cancels go to the callbacks. A
 * cancel's bid is not looked up (that needs a book, MARKET-4).
 */
export function bidTopicValidator(opts: BidTopicValidatorOptions = {}): MessageValidator {
  const { onBid, onCancel, ...checks } = opts
  const maxClockSkewMs = opts.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS
  return (data, ctx): ValidationResult => {
    const r = validateBidTopicMessage(data, {
      ...checks,
      maxClockSkewMs,
      nowMs: ctx.nowMs,
      article: ctx.article
    })
    if (r.result !== 'accept') return r
    if (r.cancel !== undefined) onCancel?.(r.cancel)
    else onBid?.(r.bid)
    return { result: 'accept' }
  }
}
